import { useTitle } from '../lib/title';

export function NotFound({ what }: { what?: string }) {
  useTitle('Not found');
  return (
    <section>
      <h1>Not found</h1>
      <p>{what ?? 'There is no page at this address.'}</p>
      <p>
        <a href="/jobs">Back to the jobs</a>
      </p>
    </section>
  );
}
