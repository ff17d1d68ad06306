;; Dot products of one query with many vectors, with 128-bit SIMD. The vector store keeps its vectors in
;; this module's memory (imported, so the store controls growth), one row of `stride` lanes per slot, and
;; asks for every row's score in one call instead of one JavaScript loop per element.
;;
;; dotsI8(data, query, stride, count, invNorms, out, queryInv):
;;   out[i] = f32(sum_j data[i*stride + j] * query[j]) * invNorms[i] * queryInv, for i in [0, count)
;;   int8 rows; the query is given already widened to int16 (2 * stride bytes), so each 16 row bytes cost
;;   two sign extensions and two i32x4.dot_i16x8_s (pmaddwd on x64) instead of widening multiplies;
;;   stride is a multiple of 16; invNorms are f32 (0 for an empty slot).
;; dotsI8x128(data, query, count, invNorms, out, queryInv):
;;   dotsI8 for stride 128 (the builtin embedder's dimension), with the widened query held in sixteen
;;   v128 locals for the whole scan instead of loaded again for every row, and two accumulators.
;; dotsF32(data, query, stride, count, out):
;;   out[i] = sum_j data[i*stride + j] * query[j]; f32 rows and query; stride is a multiple of 4.
(module
  (import "env" "memory" (memory 1))

  (func (export "dotsI8")
    (param $data i32) (param $query i32) (param $stride i32) (param $count i32)
    (param $invNorms i32) (param $out i32) (param $queryInv f32)
    (local $i i32) (local $p i32) (local $end i32) (local $q i32) (local $acc v128) (local $d v128)
    (local.set $p (local.get $data))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $end (i32.add (local.get $p) (local.get $stride)))
        (local.set $q (local.get $query))
        ;; stride >= 16, so the row loop runs at least once. Components are within +-127: products and
        ;; the pairwise sums of dot_i16x8_s fit i32 lanes.
        (loop $lanes
          (local.set $d (v128.load (local.get $p)))
          (local.set $acc (i32x4.add (local.get $acc)
            (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $d)) (v128.load (local.get $q)))))
          (local.set $acc (i32x4.add (local.get $acc)
            (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $d)) (v128.load offset=16 (local.get $q)))))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (local.set $q (i32.add (local.get $q) (i32.const 32)))
          (br_if $lanes (i32.lt_u (local.get $p) (local.get $end))))
        (f32.store
          (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
          (f32.mul
            (f32.mul
              (f32.convert_i32_s
                (i32.add
                  (i32.add (i32x4.extract_lane 0 (local.get $acc)) (i32x4.extract_lane 1 (local.get $acc)))
                  (i32.add (i32x4.extract_lane 2 (local.get $acc)) (i32x4.extract_lane 3 (local.get $acc)))))
              (f32.load (i32.add (local.get $invNorms) (i32.shl (local.get $i) (i32.const 2)))))
            (local.get $queryInv)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))

  (func (export "dotsI8x128")
    (param $data i32) (param $query i32) (param $count i32) (param $invNorms i32) (param $out i32)
    (param $queryInv f32)
    (local $i i32) (local $p i32) (local $a v128) (local $b v128) (local $d v128)
    (local $q0 v128) (local $q1 v128) (local $q2 v128) (local $q3 v128) (local $q4 v128) (local $q5 v128) (local $q6 v128) (local $q7 v128)
    (local $q8 v128) (local $q9 v128) (local $q10 v128) (local $q11 v128) (local $q12 v128) (local $q13 v128) (local $q14 v128) (local $q15 v128)
    (local.set $q0 (v128.load offset=0 (local.get $query)))
    (local.set $q1 (v128.load offset=16 (local.get $query)))
    (local.set $q2 (v128.load offset=32 (local.get $query)))
    (local.set $q3 (v128.load offset=48 (local.get $query)))
    (local.set $q4 (v128.load offset=64 (local.get $query)))
    (local.set $q5 (v128.load offset=80 (local.get $query)))
    (local.set $q6 (v128.load offset=96 (local.get $query)))
    (local.set $q7 (v128.load offset=112 (local.get $query)))
    (local.set $q8 (v128.load offset=128 (local.get $query)))
    (local.set $q9 (v128.load offset=144 (local.get $query)))
    (local.set $q10 (v128.load offset=160 (local.get $query)))
    (local.set $q11 (v128.load offset=176 (local.get $query)))
    (local.set $q12 (v128.load offset=192 (local.get $query)))
    (local.set $q13 (v128.load offset=208 (local.get $query)))
    (local.set $q14 (v128.load offset=224 (local.get $query)))
    (local.set $q15 (v128.load offset=240 (local.get $query)))
    (local.set $p (local.get $data))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $d (v128.load offset=0 (local.get $p)))
        (local.set $a (i32x4.add (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $d)) (local.get $q0))
          (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $d)) (local.get $q1))))
        (local.set $d (v128.load offset=16 (local.get $p)))
        (local.set $b (i32x4.add (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $d)) (local.get $q2))
          (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $d)) (local.get $q3))))
        (local.set $d (v128.load offset=32 (local.get $p)))
        (local.set $a (i32x4.add (local.get $a) (i32x4.add (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $d)) (local.get $q4))
          (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $d)) (local.get $q5)))))
        (local.set $d (v128.load offset=48 (local.get $p)))
        (local.set $b (i32x4.add (local.get $b) (i32x4.add (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $d)) (local.get $q6))
          (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $d)) (local.get $q7)))))
        (local.set $d (v128.load offset=64 (local.get $p)))
        (local.set $a (i32x4.add (local.get $a) (i32x4.add (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $d)) (local.get $q8))
          (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $d)) (local.get $q9)))))
        (local.set $d (v128.load offset=80 (local.get $p)))
        (local.set $b (i32x4.add (local.get $b) (i32x4.add (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $d)) (local.get $q10))
          (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $d)) (local.get $q11)))))
        (local.set $d (v128.load offset=96 (local.get $p)))
        (local.set $a (i32x4.add (local.get $a) (i32x4.add (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $d)) (local.get $q12))
          (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $d)) (local.get $q13)))))
        (local.set $d (v128.load offset=112 (local.get $p)))
        (local.set $b (i32x4.add (local.get $b) (i32x4.add (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $d)) (local.get $q14))
          (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $d)) (local.get $q15)))))
        (local.set $a (i32x4.add (local.get $a) (local.get $b)))
        (f32.store
          (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
          (f32.mul
            (f32.mul
              (f32.convert_i32_s
                (i32.add
                  (i32.add (i32x4.extract_lane 0 (local.get $a)) (i32x4.extract_lane 1 (local.get $a)))
                  (i32.add (i32x4.extract_lane 2 (local.get $a)) (i32x4.extract_lane 3 (local.get $a)))))
              (f32.load (i32.add (local.get $invNorms) (i32.shl (local.get $i) (i32.const 2)))))
            (local.get $queryInv)))
        (local.set $p (i32.add (local.get $p) (i32.const 128)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))

  (func (export "dotsF32")
    (param $data i32) (param $query i32) (param $stride i32) (param $count i32) (param $out i32)
    (local $i i32) (local $j i32) (local $row i32) (local $acc v128) (local $bytes i32)
    (local.set $bytes (i32.shl (local.get $stride) (i32.const 2)))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (local.set $row (i32.add (local.get $data) (i32.mul (local.get $i) (local.get $bytes))))
        (local.set $j (i32.const 0))
        (block $rowDone
          (loop $lanes
            (br_if $rowDone (i32.ge_u (local.get $j) (local.get $bytes)))
            (local.set $acc (f32x4.add (local.get $acc)
              (f32x4.mul (v128.load (i32.add (local.get $row) (local.get $j)))
                         (v128.load (i32.add (local.get $query) (local.get $j))))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $lanes)))
        (f32.store
          (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
            (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))
)
