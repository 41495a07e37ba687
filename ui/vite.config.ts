import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));

// `base: "./"` keeps every asset URL relative, so the CLI can serve dist/ui under any path.
export default defineConfig({
  root,
  base: "./",
  publicDir: false,
  build: {
    outDir: fileURLToPath(new URL("../dist/ui", import.meta.url)),
    emptyOutDir: true,
    assetsDir: "assets",
    target: "es2022",
    sourcemap: false,
  },
  // `AVSCTL_UI_API=<devnet ui URL> npx vite --config ui/vite.config.ts`: live reload against a real feed
  server: {
    host: "127.0.0.1",
    proxy: process.env.AVSCTL_UI_API ? { "/api": process.env.AVSCTL_UI_API } : undefined,
  },
});
