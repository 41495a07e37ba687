import type { AddressInfo } from "node:net";
import { loadEnvFiles } from "./http.ts";
import { createExecutionServer } from "./server.ts";
import { loadExecutionSettings } from "./settings.ts";

// The project's .env first, then the service's own; variables already set always win.
loadEnvFiles(["../.env", ".env"]);

let settings: ReturnType<typeof loadExecutionSettings>;
try {
  settings = loadExecutionSettings(process.env);
} catch (error) {
  console.error(`execution service: ${(error as Error).message}`);
  process.exit(1);
}

const server = createExecutionServer(settings, process.env);
server.listen(settings.port, settings.host, () => {
  const { port } = server.address() as AddressInfo;
  console.log(
    `execution service listening on http://${settings.host}:${port} (performer ${settings.performerAddress})`,
  );
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  });
}
