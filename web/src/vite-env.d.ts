/// <reference types="vite/client" />

interface ImportMetaEnv {
  readonly VITE_SIGN_IN_URL?: string;
  /** The API's own URL for the examples and the .env file (default: this origin). */
  readonly VITE_API_URL?: string;
}
