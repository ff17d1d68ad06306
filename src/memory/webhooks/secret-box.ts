import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Webhook signing secrets are stored encrypted (AES-256-GCM, a random 96-bit nonce per value), with a key
 * derived by HKDF-SHA256 from MNEMO_WEBHOOK_SECRET_KEY, or from the admin key when that is unset. A
 * database dump alone therefore reveals no secret, and no read path (list, get, deliveries, events, logs)
 * ever carries one: the secret is shown once, in the answer that creates or rotates it.
 * Stored form: `v1.<nonce b64url>.<ciphertext b64url>.<tag b64url>`.
 */
export class SecretBox {
  private readonly key: Buffer;

  constructor(masterKey: string) {
    this.key = Buffer.from(hkdfSync('sha256', masterKey, 'mnemo', 'webhook-secrets v1', 32));
  }

  seal(secret: string): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    const sealed = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return ['v1', nonce, sealed, cipher.getAuthTag()]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  /** The secret, or undefined when the value was sealed under another key or is damaged. */
  open(stored: string): string | undefined {
    const [version, nonce, sealed, tag] = stored.split('.');
    if (version !== 'v1' || !nonce || sealed === undefined || !tag) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(nonce, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(sealed, 'base64url')), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      return undefined;
    }
  }
}

/** A new signing secret: 32 random bytes (256 bits), as `whsec_<base64url>`. */
export const generateWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64url')}`;
