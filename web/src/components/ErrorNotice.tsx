import { ApiError } from "../api/client";

/** An error as the API told it: its detail and the request id to quote to support. */
export function ErrorNotice({ error, retry }: { error: unknown; retry?: () => void }) {
  const apiError = error instanceof ApiError ? error : null;
  const title = apiError?.title ?? "Something went wrong";
  const detail = apiError?.detail ?? (error instanceof Error ? error.message : String(error));
  return (
    <div className="notice notice-error" role="alert">
      <strong>{title}</strong>
      <p>{detail}</p>
      {apiError && apiError.errors.length > 0 && (
        <ul>
          {apiError.errors.map((e) => (
            <li key={`${e.field}:${e.code}`}>
              <code>{e.field}</code>: {e.message}
            </li>
          ))}
        </ul>
      )}
      {apiError?.requestId && (
        <p className="muted">
          Request id: <code data-testid="request-id">{apiError.requestId}</code>
        </p>
      )}
      {retry && (
        <button type="button" className="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}
