/**
 * The authenticated channel between the aggregator and its attesters, over plain HTTP.
 *
 * Attesters dial the aggregator (only the aggregator needs a reachable address, as with
 * Othentic's bootstrap node):
 *   1. `POST /p2p/hello`: the attester's hello (address, ephemeral X25519 key, nonce, time),
 *      signed with its operator ECDSA key (EIP-191). The aggregator checks the signature, the
 *      clock skew, replay, and that the address is an active operator on chain.
 *   2. The answer is the aggregator's welcome (session id, its own ephemeral key, the hash of
 *      the hello), signed by the aggregator's operator key; the attester checks it the same way.
 *   3. Both derive two HMAC keys from the X25519 secret (HKDF-SHA256). Every later message
 *      carries a sequence number and an HMAC-SHA256, so a message is as good as signed by the
 *      sender's operator key at microseconds per message instead of milliseconds.
 *   4. `GET /p2p/stream` (authenticated) stays open: the aggregator writes tasks, custom
 *      messages and pings as lines `<seq> <mac> <json>`. Votes go back the same way on a
 *      long-lived `POST /p2p/votes/stream` (authenticated when opened; its body is lines
 *      `<seq> <mac> {"votes":[..]}` under the up key, each sequence number once, answered by
 *      nothing), which the attester ends and opens again every 30 s (the server's request
 *      timeout is 60 s). `POST /p2p/votes` (one batch, 204) is the fallback. A vote is also
 *      self-authenticating through the attester's on-chain BLS key.
 * When the stream ends (aggregator restart, attester restart, network), the attester says
 * hello again with backoff: rejoining needs no manual step. A hello from an address whose
 * stream is open makes the aggregator probe that stream (`{"type":"probe"}`, answered by an
 * authenticated `POST /p2p/pong`): one that answers keeps its place and the hello is refused
 * (409 `OPERATOR_CONNECTED`: two nodes share an operator key; the refused one backs off up to
 * 30 s), one that does not is closed and the hello takes its place.
 */

export { AggregatorLink, type AggregatorLinkOptions } from "./transport/aggregator-link.js";
export { PeerHub, type PeerHubOptions, type PeerSession } from "./transport/peer-hub.js";
export {
  type DownMessage,
  type Hello,
  parseVoteWitness,
  ReplayWindow,
  type TaskMessage,
  type VoteMessage,
  voteWitnessHex,
  type Welcome,
} from "./transport/protocol.js";
