/** The append-only answer text of a live sample (see PieceTail). */

/** A piece of answer text with the delta of the token that produced it (for colouring). */
export interface Piece {
  text: string;
  delta: number;
}

/**
 * Answer pieces in an append-only array shared by successive states: a state sees
 * log[start, end). Appending copies only when another state already appended past `end`
 * (the reducer ran twice on one state), so a token costs O(1), not a copy of the answer.
 */
export interface PieceTail {
  readonly log: Piece[];
  readonly start: number;
  readonly end: number;
}

/** The pieces a sample holds, oldest first. */
export function piecesOf(sample: { pieces: PieceTail }): readonly Piece[] {
  return sample.pieces.log.slice(sample.pieces.start, sample.pieces.end);
}

/** The tail with `piece` appended, keeping at most `max` pieces. */
export function appendPiece(tail: PieceTail, piece: Piece, max: number): PieceTail {
  let { log, start, end } = tail;
  if (log.length !== end) {
    log = log.slice(start, end);
    end -= start;
    start = 0;
  }
  log.push(piece);
  end++;
  start = Math.max(start, end - max);
  // Drop the hidden front once it is as long as the kept tail: amortised O(1) per piece.
  if (start >= max) {
    log = log.slice(start, end);
    end -= start;
    start = 0;
  }
  return { log, start, end };
}
