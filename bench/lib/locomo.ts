import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/paths.js';

/**
 * The LoCoMo development split (../shared/bench/locomo, CC BY-NC 4.0: read from there, never copied):
 * conversations of sessions of turns, and questions with the dia_ids of their evidence.
 */
export interface Turn {
  speaker: string;
  dia_id: string;
  text: string;
}

export interface Question {
  question: string;
  evidence: string[];
  category: number;
}

export interface Session {
  date: Date;
  turns: Turn[];
}

export interface Conversation {
  file: string;
  sessions: Session[];
  questions: Question[];
}

export const LOCOMO_DIR =
  process.env.MNEMO_LOCOMO_DIR ?? path.join(PROJECT_ROOT, '..', 'shared', 'bench', 'locomo');

/** Memory text of a turn, as the benchmark's README prescribes. */
export const turnText = (turn: Turn): string => `${turn.speaker}: ${turn.text}`;

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** "1:56 pm on 8 May, 2023" -> Date (UTC). */
export function sessionDate(text: string): Date {
  const m = /(\d{1,2}):(\d{2})\s*(am|pm)\s+on\s+(\d{1,2})\s+([A-Za-z]+),?\s+(\d{4})/i.exec(text);
  if (!m) throw new Error(`unreadable session date "${text}"`);
  let hour = Number(m[1]) % 12;
  if ((m[3] as string).toLowerCase() === 'pm') hour += 12;
  const month = MONTHS.indexOf((m[5] as string).toLowerCase().slice(0, 3));
  return new Date(Date.UTC(Number(m[6]), month, Number(m[4]), hour, Number(m[2])));
}

export function loadConversations(dir = LOCOMO_DIR): Conversation[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const raw = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Record<string, unknown> & {
        qa: Question[];
      };
      const sessions: Session[] = Object.keys(raw)
        .map((key) => /^session_(\d+)$/.exec(key)?.[1])
        .filter((n): n is string => n !== undefined)
        .sort((a, b) => Number(a) - Number(b))
        .map((n) => ({
          date: sessionDate(String(raw[`session_${n}_date_time`])),
          turns: raw[`session_${n}`] as Turn[],
        }));
      return { file, sessions, questions: raw.qa };
    });
}
