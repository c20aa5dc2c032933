import { act, fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { CopyButton } from "./CopyButton";

describe("the copy button", () => {
  it("says it copied, goes back to its label, and leaves no timer behind when unmounted", async () => {
    vi.useFakeTimers();
    try {
      const writeText = vi.fn(async (_text: string) => {});
      vi.stubGlobal("navigator", { clipboard: { writeText } });
      const { unmount } = render(<CopyButton value="s3cret" label="Copy secret" />);
      await act(async () => fireEvent.click(screen.getByRole("button", { name: "Copy secret" })));
      expect(writeText).toHaveBeenCalledWith("s3cret");
      expect(screen.getByRole("button")).toHaveTextContent("Copied");
      await act(() => vi.advanceTimersByTimeAsync(2000));
      expect(screen.getByRole("button")).toHaveTextContent("Copy secret");

      await act(async () => fireEvent.click(screen.getByRole("button")));
      expect(vi.getTimerCount()).toBe(1);
      unmount();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
