import { describeDocker } from "../../helpers/docker.js";
import { devnetSuite } from "./suite.js";

describeDocker("devnet, Docker runtime (built CLI, real engine)", () => {
  devnetSuite("docker");
});
