// A labelled form field with its hint and its error (announced, and tied to the input).
import type { ComponentChildren } from 'preact';

interface Props {
  id: string;
  label: string;
  hint?: string;
  error?: string;
  children: ComponentChildren;
}

export function Field({ id, label, hint, error, children }: Props) {
  return (
    <div class={'field' + (error ? ' field-error' : '')}>
      <label for={id}>{label}</label>
      {children}
      {hint && (
        <small id={id + '-hint'} class="hint">
          {hint}
        </small>
      )}
      {error && (
        <small id={id + '-error'} class="error" role="alert" data-field-error={id}>
          {error}
        </small>
      )}
    </div>
  );
}

/** The aria attributes an input inside a Field takes (hint: the Field has a hint). */
export function described(id: string, error?: string, hint = false) {
  const ids = [hint ? id + '-hint' : '', error ? id + '-error' : ''].filter(Boolean).join(' ');
  return {
    id,
    'aria-invalid': error ? ('true' as const) : undefined,
    'aria-describedby': ids || undefined,
  };
}
