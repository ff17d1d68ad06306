;; Dot products of one query with many vectors, with 128-bit SIMD. The vector store keeps its vectors in
;; this module's memory (imported, so the store controls growth), one row of `stride` lanes per slot, and
;; asks for every row's score in one call instead of one JavaScript loop per element.
;;
;; dotsI8(data, query, stride, count, invNorms, out, queryInv):
;;   out[i] = f32(sum_j data[i*stride + j] * query[j]) * invNorms[i] * queryInv, for i in [0, count)
;;   int8 rows; the query is given already widened to int16 (2 * stride bytes), so each 16 row bytes cost
;;   two sign extensions and two i32x4.dot_i16x8_s (pmaddwd on x64) instead of widening multiplies;
;;   stride is a multiple of 16; invNorms are f32 (0 for an empty slot).
;; dotsF32(data, query, stride, count, out):
;;   out[i] = sum_j data[i*stride + j] * query[j]; f32 rows and query; stride is a multiple of 4.
;; hamming(codes, query, planeBytes, count, invNorms, dist, hist):
;;   the binary prefilter of the int8 store: each row also has a ternary sign code, two bit planes of
;;   planeBytes (a multiple of 16) each, `positive` (component > 0) then `negative` (< 0); the query has
;;   one too. agree = popcount((qp & rp) | (qn & rn)), disagree = popcount((qp & rn) | (qn & rp)), and
;;   dist[i] (u16) = 8 * planeBytes - agree + disagree (smaller = nearer) for a slot with a vector, with
;;   hist[dist[i]] (u32) += 1; dist[i] = 0xffff for an empty slot (invNorms 0), which passes no cutoff.
;;   hist must hold 16 * planeBytes + 1 zeroed counters.
;; dotsI8Slots(data, query, stride, list, n, invNorms, queryInv):
;;   dotsI8 for the n slots listed (i32) at `list` only: each list entry is replaced by its slot's score
;;   (f32, computed exactly as dotsI8 does).
;; gather(dist, count, cutoff, out, ties) -> n:
;;   writes to out (i32), in slot order, the slots i with dist[i] < cutoff and the first `ties` slots with
;;   dist[i] = cutoff; returns how many.
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
;; Per row, per 16 bytes of each plane: popcounts of the agreeing and disagreeing bits, widened into i16
  ;; lanes (a row of up to 4,096 components adds at most 16 * 32 = 512 to a lane), summed.
  (func (export "hamming")
    (param $codes i32) (param $query i32) (param $planeBytes i32) (param $count i32)
    (param $invNorms i32) (param $dist i32) (param $hist i32)
    (local $i i32) (local $p i32) (local $end i32) (local $q i32) (local $agree v128) (local $disagree v128)
    (local $rp v128) (local $rn v128) (local $qp v128) (local $qn v128) (local $sum v128)
    (local $d i32) (local $h i32) (local $bits i32)
    (local.set $bits (i32.shl (local.get $planeBytes) (i32.const 3)))
    (local.set $p (local.get $codes))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $agree (v128.const i32x4 0 0 0 0))
        (local.set $disagree (v128.const i32x4 0 0 0 0))
        (local.set $end (i32.add (local.get $p) (local.get $planeBytes)))
        (local.set $q (local.get $query))
        (loop $lanes
          (local.set $rp (v128.load (local.get $p)))
          (local.set $rn (v128.load (i32.add (local.get $p) (local.get $planeBytes))))
          (local.set $qp (v128.load (local.get $q)))
          (local.set $qn (v128.load (i32.add (local.get $q) (local.get $planeBytes))))
          (local.set $agree (i16x8.add (local.get $agree)
            (i16x8.extadd_pairwise_i8x16_u (i8x16.popcnt
              (v128.or (v128.and (local.get $qp) (local.get $rp)) (v128.and (local.get $qn) (local.get $rn)))))))
          (local.set $disagree (i16x8.add (local.get $disagree)
            (i16x8.extadd_pairwise_i8x16_u (i8x16.popcnt
              (v128.or (v128.and (local.get $qp) (local.get $rn)) (v128.and (local.get $qn) (local.get $rp)))))))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (local.set $q (i32.add (local.get $q) (i32.const 16)))
          (br_if $lanes (i32.lt_u (local.get $p) (local.get $end))))
        ;; The next row starts after this row's negative plane.
        (local.set $p (i32.add (local.get $p) (local.get $planeBytes)))
        (local.set $sum (i32x4.extadd_pairwise_i16x8_s (i16x8.sub (local.get $disagree) (local.get $agree))))
        (local.set $d
          (i32.add (local.get $bits)
            (i32.add
              (i32.add (i32x4.extract_lane 0 (local.get $sum)) (i32x4.extract_lane 1 (local.get $sum)))
              (i32.add (i32x4.extract_lane 2 (local.get $sum)) (i32x4.extract_lane 3 (local.get $sum))))))
        (if (f32.eq (f32.load (i32.add (local.get $invNorms) (i32.shl (local.get $i) (i32.const 2))))
                    (f32.const 0))
          (then
            (i32.store16 (i32.add (local.get $dist) (i32.shl (local.get $i) (i32.const 1))) (i32.const 0xffff)))
          (else
            (i32.store16 (i32.add (local.get $dist) (i32.shl (local.get $i) (i32.const 1))) (local.get $d))
            (local.set $h (i32.add (local.get $hist) (i32.shl (local.get $d) (i32.const 2))))
            (i32.store (local.get $h) (i32.add (i32.load (local.get $h)) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))

  (func (export "gather")
    (param $dist i32) (param $count i32) (param $cutoff i32) (param $out i32) (param $ties i32) (result i32)
    (local $i i32) (local $n i32) (local $d i32)
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $d (i32.load16_u (i32.add (local.get $dist) (i32.shl (local.get $i) (i32.const 1)))))
        (if (i32.or (i32.lt_u (local.get $d) (local.get $cutoff))
                    (i32.and (i32.eq (local.get $d) (local.get $cutoff)) (i32.gt_s (local.get $ties) (i32.const 0))))
          (then
            (if (i32.eq (local.get $d) (local.get $cutoff))
              (then (local.set $ties (i32.sub (local.get $ties) (i32.const 1)))))
            (i32.store (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const 2))) (local.get $i))
            (local.set $n (i32.add (local.get $n) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows)))
    (local.get $n))

  (func (export "dotsI8Slots")
    (param $data i32) (param $query i32) (param $stride i32) (param $list i32) (param $n i32)
    (param $invNorms i32) (param $queryInv f32)
    (local $j i32) (local $slot i32) (local $at i32) (local $p i32) (local $end i32) (local $q i32)
    (local $acc v128) (local $d v128)
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $at (i32.add (local.get $list) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $slot (i32.load (local.get $at)))
        (local.set $p (i32.add (local.get $data) (i32.mul (local.get $slot) (local.get $stride))))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $end (i32.add (local.get $p) (local.get $stride)))
        (local.set $q (local.get $query))
        (loop $lanes
          (local.set $d (v128.load (local.get $p)))
          (local.set $acc (i32x4.add (local.get $acc)
            (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $d)) (v128.load (local.get $q)))))
          (local.set $acc (i32x4.add (local.get $acc)
            (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $d)) (v128.load offset=16 (local.get $q)))))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (local.set $q (i32.add (local.get $q) (i32.const 32)))
          (br_if $lanes (i32.lt_u (local.get $p) (local.get $end))))
        (f32.store (local.get $at)
          (f32.mul
            (f32.mul
              (f32.convert_i32_s
                (i32.add
                  (i32.add (i32x4.extract_lane 0 (local.get $acc)) (i32x4.extract_lane 1 (local.get $acc)))
                  (i32.add (i32x4.extract_lane 2 (local.get $acc)) (i32x4.extract_lane 3 (local.get $acc)))))
              (f32.load (i32.add (local.get $invNorms) (i32.shl (local.get $slot) (i32.const 2)))))
            (local.get $queryInv)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $rows))))
)
