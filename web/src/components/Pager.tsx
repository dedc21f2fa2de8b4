// Previous and next buttons of a list read a page at a time (limit/offset): next is offered while
// the last page came back full.
interface Props {
  offset: number;
  page: number;
  count: number; // the items the current page holds
  setOffset: (offset: number) => void;
  /** Names the pager (a navigation landmark) where a page has more than one list. */
  label?: string;
}

export function Pager({ offset, page, count, setOffset, label }: Props) {
  const Box = label ? 'nav' : 'div';
  return (
    <Box class="pager" aria-label={label}>
      {offset > 0 && (
        <button type="button" onClick={() => setOffset(Math.max(0, offset - page))}>
          Previous page
        </button>
      )}
      {count === page && (
        <button type="button" onClick={() => setOffset(offset + page)}>
          Next page
        </button>
      )}
    </Box>
  );
}
