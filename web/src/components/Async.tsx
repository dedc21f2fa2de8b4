// Loading state of a page's data: a hook and the messages around it.
import { useCallback, useEffect, useState } from 'preact/hooks';

export interface AsyncState<T> {
  data?: T;
  error?: Error & { status?: number };
  loading: boolean;
  reload: () => void;
}

export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): AsyncState<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({
    loading: true,
  });
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, loading: false }),
      (error: Error) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, n]);
  const reload = useCallback(() => setN((x) => x + 1), []);
  return { ...state, reload };
}

export function ErrorBox({ error }: { error?: Error }) {
  if (!error) return null;
  return (
    <p class="error-box" role="alert">
      {error.message}
    </p>
  );
}

export function StateBadge({ state }: { state?: string }) {
  return <span class={`badge badge-${state ?? 'unknown'}`}>{state ?? '–'}</span>;
}
