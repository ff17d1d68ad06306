import type { ComponentChildren } from 'preact';

/** An error the user must see: announced by screen readers (role=alert). */
export function ErrorNote(props: { error: string | null }) {
  if (!props.error) return null;
  return (
    <p class="error" role="alert">
      {props.error}
    </p>
  );
}

/** A success or information line, announced politely. */
export function Info(props: { children: ComponentChildren }) {
  return (
    <p class="info" role="status">
      {props.children}
    </p>
  );
}

/** A new secret, shown once with a warning that it cannot be shown again. */
export function SecretOnce(props: { secret: string | null; onDone: () => void }) {
  if (!props.secret) return null;
  return (
    <div class="secret" role="status">
      <p>
        New key (shown only now; copy it): <code data-testid="new-key">{props.secret}</code>
      </p>
      <button type="button" onClick={props.onDone}>
        I have copied it
      </button>
    </div>
  );
}

/** Formats an error thrown by `api()` or anything else. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
