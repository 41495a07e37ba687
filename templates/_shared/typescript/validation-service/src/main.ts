import type { AddressInfo } from "node:net";
import { envValue, loadEnvFiles, portFrom } from "./http.ts";
import { createValidationServer } from "./server.ts";

// The project's .env first, then the service's own; variables already set always win.
loadEnvFiles(["../.env", ".env"]);

let port: number;
try {
  port = portFrom(process.env, "VALIDATION_PORT", 4002);
} catch (error) {
  console.error(`validation service: ${(error as Error).message}`);
  process.exit(1);
}
const host = envValue(process.env, "HOST") ?? "0.0.0.0";

const server = createValidationServer(process.env);
server.listen(port, host, () => {
  const { port: actual } = server.address() as AddressInfo;
  console.log(`validation service listening on http://${host}:${actual}`);
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  });
}
