// Cursor paging, as every list endpoint of openapi.yaml answers (its Pagination schema).

export interface Pagination {
  limit: number;
  has_more: boolean;
  /** Only in offset mode; the dashboard pages by cursor. */
  offset?: number;
  /** null on the last page. */
  next_cursor?: string | null;
}

export interface Page<T> {
  data: T[];
  pagination: Pagination;
}

/** The cursor of the page after `page`, if there is one (useInfiniteQuery's getNextPageParam). */
export const nextCursor = (page: Page<unknown>) =>
  page.pagination.has_more ? (page.pagination.next_cursor ?? undefined) : undefined;
