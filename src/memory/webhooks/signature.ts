import { createHmac } from 'node:crypto';

/**
 * How deliveries are signed (README "Webhooks"). Each valid secret (the current one, and during a rotation's
 * grace period the previous one too) adds one `sha256=<hex>` to each list, newest first:
 *   X-PLUR-Signature:           HMAC-SHA256(raw body, secret)                   (the PLUR contract)
 *   X-PLUR-Timestamp:           Unix seconds when this attempt was signed
 *   X-PLUR-Timestamp-Signature: HMAC-SHA256("<X-PLUR-Timestamp>.<raw body>", secret)
 * The second signature binds the timestamp, so a receiver can refuse replays of old deliveries.
 */
export const hmacHex = (secret: string, text: string): string =>
  createHmac('sha256', secret).update(text, 'utf8').digest('hex');

export interface DeliveryHeaderInput {
  type: string;
  deliveryId: string;
  body: string;
  secrets: readonly string[];
  /** Unix seconds. */
  timestamp: number;
}

export function signedHeaders(input: DeliveryHeaderInput): Record<string, string> {
  const list = (sign: (secret: string) => string): string =>
    input.secrets.map((secret) => `sha256=${sign(secret)}`).join(', ');
  const ts = String(input.timestamp);
  return {
    'x-plur-event': input.type,
    'x-plur-delivery': input.deliveryId,
    'x-plur-signature': list((secret) => hmacHex(secret, input.body)),
    'x-plur-timestamp': ts,
    'x-plur-timestamp-signature': list((secret) => hmacHex(secret, `${ts}.${input.body}`)),
  };
}
