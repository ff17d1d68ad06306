import type { JSX } from 'preact';

type InputAttributes = Omit<JSX.IntrinsicElements['input'], 'value' | 'onInput' | 'label'>;

/**
 * A labelled text input bound to a piece of state: the label wraps the input, so it is announced with it
 * and clicking it focuses the field. Other attributes (name, type, placeholder, required, …) pass through.
 */
export function TextField(
  props: InputAttributes & { label: string; value: string; onValue: (value: string) => void },
) {
  const { label, value, onValue, ...input } = props;
  return (
    <label>
      {label}
      <input {...input} value={value} onInput={(e) => onValue(e.currentTarget.value)} />
    </label>
  );
}
