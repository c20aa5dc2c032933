import { describe, expect, it } from "vitest";
import { api } from "./client";
import { mockApi } from "../test/render";

describe("the API client", () => {
  it("sends the CSRF token from the __Host- cookie in X-CSRF-Token", async () => {
    document.cookie = "__Host-pm_csrf=tok%2Ben; Secure; Path=/";
    const calls = mockApi({ "POST /api/v1/things": () => ({ status: 204 }) });
    await api("POST", "/api/v1/things", { body: {} });
    expect(calls[0]?.headers["X-CSRF-Token"]).toBe("tok+en");
  });
});
