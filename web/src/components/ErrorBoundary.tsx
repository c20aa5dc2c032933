import { Component, type ReactNode } from "react";

/**
 * What a page shows instead of a blank screen when it cannot render: its code failed to
 * load (a deploy replaced the chunks this tab knows of) or it threw. Reloading fetches the
 * current version. A new `resetKey` (the path) tries again, so the navigation still works.
 */
export class ErrorBoundary extends Component<{ children: ReactNode; resetKey?: string }, { error: unknown }> {
  state = { error: null as unknown };

  static getDerivedStateFromError(error: unknown) {
    return { error };
  }

  componentDidUpdate(previous: { resetKey?: string }) {
    if (this.state.error !== null && previous.resetKey !== this.props.resetKey) this.setState({ error: null });
  }

  render() {
    const { error } = this.state;
    if (error === null) return this.props.children;
    return (
      <div className="notice notice-error" role="alert">
        <h1>This page could not be shown</h1>
        <p>{error instanceof Error ? error.message : String(error)}</p>
        <p>If the dashboard was just updated, reloading loads the new version.</p>
        <button type="button" className="button" onClick={() => window.location.reload()}>
          Reload
        </button>
      </div>
    );
  }
}
