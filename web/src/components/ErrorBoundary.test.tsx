import { lazy, Suspense } from "react";
import { render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { ErrorBoundary } from "./ErrorBoundary";

function Broken(): never {
  throw new Error("Cannot read properties of undefined (reading 'map')");
}

describe("the error boundary", () => {
  // React reports a caught error on the console too; that is expected here.
  const quiet = () => vi.spyOn(console, "error").mockImplementation(() => {});

  it("shows what went wrong and a way to reload instead of a blank page when a page throws", () => {
    quiet();
    render(
      <ErrorBoundary>
        <Broken />
      </ErrorBoundary>,
    );
    const alert = screen.getByRole("alert");
    expect(alert).toHaveTextContent("This page could not be shown");
    expect(alert).toHaveTextContent("Cannot read properties of undefined (reading 'map')");
    expect(screen.getByRole("button", { name: "Reload" })).toBeInTheDocument();
  });

  it("catches a page's code that fails to load (after a deploy)", async () => {
    quiet();
    const Page = lazy(() => Promise.reject(new TypeError("Failed to fetch dynamically imported module")));
    render(
      <ErrorBoundary>
        <Suspense fallback={<p>Loading</p>}>
          <Page />
        </Suspense>
      </ErrorBoundary>,
    );
    expect(await screen.findByRole("alert")).toHaveTextContent("Failed to fetch dynamically imported module");
    expect(screen.getByRole("button", { name: "Reload" })).toBeInTheDocument();
  });

  it("tries again on another page, so the navigation still works", () => {
    quiet();
    const { rerender } = render(
      <ErrorBoundary resetKey="/a">
        <Broken />
      </ErrorBoundary>,
    );
    expect(screen.getByRole("alert")).toBeInTheDocument();
    rerender(
      <ErrorBoundary resetKey="/b">
        <p>Another page</p>
      </ErrorBoundary>,
    );
    expect(screen.getByText("Another page")).toBeInTheDocument();
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
  });
});
