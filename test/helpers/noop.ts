/** An entry point that exits at once (tests use its pid as one that no longer runs). */
export {};
