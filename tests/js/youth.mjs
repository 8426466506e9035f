// A scripted "youth": Element's own Matrix stack (matrix-js-sdk + Rust crypto) driven by
// counsel's integration tests. One JSON request per stdin line, one JSON answer per stdout
// line; everything else goes to stderr so stdout stays a clean protocol channel.
//
// Request: {"id": <any>, "cmd": "<name>", ...arguments}
// Answer:  {"id": <same>, "ok": true, "result": {...}}
//       or {"id": <same>, "ok": false, "error": {"code": "...", "message": "...", ...details}}
//
// Requests run concurrently (a long wait_for_message must not block a send), so answers may
// come back out of order: match them by id.

import { createInterface } from "node:readline";

// The SDK logs through console.*; console.log would corrupt the protocol on stdout.
const toStderr = (...args) => process.stderr.write(args.map(String).join(" ") + "\n");
console.log = toStderr;
console.info = toStderr;
console.debug = toStderr;
console.warn = toStderr;

const sdk = await import("matrix-js-sdk");
const cryptoApi = await import("matrix-js-sdk/lib/crypto-api/index.js");
const rustCrypto = await import("@matrix-org/matrix-sdk-crypto-wasm");
const { logger } = await import("matrix-js-sdk/lib/logger.js");
// Debug logs (the SDK's and the Rust crypto's) carry ids and keys: warnings only, unless asked.
const DEBUG = Boolean(process.env.YOUTH_DEBUG);
logger.setLevel(DEBUG ? "debug" : "warn");

const ENCRYPTION_ALGORITHM = "m.megolm.v1.aes-sha2";

class CommandError extends Error {
    constructor(code, message, details = {}) {
        super(message);
        this.code = code;
        this.details = details;
    }
}

const log = (msg) => process.stderr.write(`[youth] ${msg}\n`);
const send = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

// ---- state kept per process (one process is one device) -------------------------------

const state = {
    client: null,
    userId: null,
    started: false,
    // room_id -> Map(event_id -> record); insertion order is arrival order.
    rooms: new Map(),
    // Called on every record change or invite; each returns true when it is done.
    waiters: new Set(),
    handedOutInvites: new Set(),
};

function requireClient() {
    if (!state.client) throw new CommandError("not_logged_in", "send login first");
    return state.client;
}

function requireStarted() {
    const client = requireClient();
    if (!state.started) throw new CommandError("not_started", "send start first");
    return client;
}

function notifyWaiters() {
    for (const waiter of [...state.waiters]) {
        if (waiter()) state.waiters.delete(waiter);
    }
}

// Resolves with check()'s first non-undefined value, or rejects with onTimeout()'s error.
function waitFor(check, timeoutMs, onTimeout) {
    const first = check();
    if (first !== undefined) return Promise.resolve(first);
    return new Promise((resolve, reject) => {
        const waiter = () => {
            const value = check();
            if (value === undefined) return false;
            clearTimeout(timer);
            resolve(value);
            return true;
        };
        const timer = setTimeout(() => {
            state.waiters.delete(waiter);
            reject(onTimeout());
        }, timeoutMs);
        state.waiters.add(waiter);
    });
}

function recordEvent(event) {
    const roomId = event.getRoomId();
    const eventId = event.getId();
    if (!roomId || !eventId || !event.isEncrypted()) return;
    let records = state.rooms.get(roomId);
    if (!records) {
        records = new Map();
        state.rooms.set(roomId, records);
    }
    let record;
    if (event.isBeingDecrypted() || event.shouldAttemptDecryption()) {
        record = { status: "pending" };
    } else if (event.isDecryptionFailure()) {
        record = { status: "failed", reason: event.decryptionFailureReason ?? "UNKNOWN_ERROR" };
    } else if (event.getType() === "m.room.message") {
        // When this device first had it readable (wall clock, ms): what a benchmark times.
        const earlier = records.get(eventId);
        const decryptedAt = earlier?.status === "decrypted" ? earlier.decrypted_at : Date.now();
        record = { status: "decrypted", body: String(event.getContent().body ?? ""),
                   decrypted_at: decryptedAt };
    } else {
        record = { status: "other" };
    }
    records.set(eventId, { event_id: eventId, sender: event.getSender(), ts: event.getTs(),
                           ...record });
    notifyWaiters();
}

function roomRecords(roomId) {
    const client = requireStarted();
    // Also scan what the room already holds, in case it arrived before we were listening.
    const room = client.getRoom(roomId);
    for (const event of room?.getLiveTimeline().getEvents() ?? []) {
        if (!state.rooms.get(roomId)?.has(event.getId())) recordEvent(event);
    }
    return [...(state.rooms.get(roomId)?.values() ?? [])];
}

// ---- commands ---------------------------------------------------------------------------

function uiaPasswordStep(userId, password) {
    // Synapse lets the first cross-signing upload through without auth (MSC3967); a
    // replacement answers 401 and wants the password, as Element would ask the user.
    return async (makeRequest) => {
        try {
            await makeRequest(null);
        } catch (err) {
            const session = err?.data?.session;
            if (err?.httpStatus !== 401 || !session) throw err;
            await makeRequest({
                type: "m.login.password",
                identifier: { type: "m.id.user", user: userId },
                password,
                session,
            });
        }
    };
}

// cross_sign=false: a plain device of an account that has no cross-signing (a benchmark's
// second device beside a nio one, which must not become "unsigned" by this one's keys).
async function login({ base_url, user_id, password, strict = true, cross_sign = true }) {
    if (state.client) throw new CommandError("already_logged_in", "one device per process");
    const t0 = performance.now();
    const anon = sdk.createClient({ baseUrl: base_url });
    const creds = await anon.loginRequest({
        type: "m.login.password",
        identifier: { type: "m.id.user", user: user_id },
        password,
        initial_device_display_name: "counsel test youth (matrix-js-sdk)",
    });
    const client = sdk.createClient({
        baseUrl: base_url,
        userId: creds.user_id,
        deviceId: creds.device_id,
        accessToken: creds.access_token,
    });
    const t1 = performance.now();
    await client.initRustCrypto({ useIndexedDB: false });
    // initRustCrypto turns Rust tracing on at debug level; turn it back down.
    if (!DEBUG) new rustCrypto.Tracing(rustCrypto.LoggerLevel.Warn).turnOn();
    const crypto = client.getCrypto();
    crypto.setDeviceIsolationMode(
        strict
            ? new cryptoApi.OnlySignedDevicesIsolationMode()
            : new cryptoApi.AllDevicesIsolationMode(false),
    );
    const t2 = performance.now();
    if (cross_sign) {
        await crypto.bootstrapCrossSigning({
            authUploadDeviceSigningKeys: uiaPasswordStep(creds.user_id, password),
        });
    }
    const t3 = performance.now();
    state.client = client;
    state.userId = creds.user_id;
    state.crossSign = cross_sign;
    client.on(sdk.RoomEvent.Timeline, (event) => recordEvent(event));
    client.on(sdk.MatrixEventEvent.Decrypted, (event) => recordEvent(event));
    client.on(sdk.RoomEvent.MyMembership, () => notifyWaiters());
    client.on(sdk.ClientEvent.Room, () => notifyWaiters());
    return {
        user_id: creds.user_id,
        device_id: creds.device_id,
        strict,
        login_ms: Math.round(t1 - t0),
        crypto_init_ms: Math.round(t2 - t1),
        cross_signing_ms: Math.round(t3 - t2),
    };
}

async function start({ timeout_ms = 30000 }) {
    const client = requireClient();
    if (state.started) return {};
    const t0 = performance.now();
    const ready = new Promise((resolve, reject) => {
        const timer = setTimeout(
            () => reject(new CommandError("timeout", "first sync did not finish in time")),
            timeout_ms,
        );
        const onSync = (syncState) => {
            if (syncState === sdk.SyncState.Prepared || syncState === sdk.SyncState.Syncing) {
                clearTimeout(timer);
                client.off(sdk.ClientEvent.Sync, onSync);
                resolve();
            }
        };
        client.on(sdk.ClientEvent.Sync, onSync);
    });
    // Like Element: lazy-loaded members, a short initial timeline.
    await client.startClient({ lazyLoadMembers: true, initialSyncLimit: 20 });
    await ready;
    const t1 = performance.now();
    if (state.crossSign) await confirmCrossSigned(client, t0 + timeout_ms);
    state.started = true;
    return {
        first_sync_ms: Math.round(t1 - t0),
        cross_signed_confirmed_ms: Math.round(performance.now() - t1),
    };
}

// The crypto store learns of its own device's new signature only from a /keys/query, and
// those go out with the sync loop: so the check that bootstrapping worked lives here.
async function confirmCrossSigned(client, deadline) {
    const crypto = client.getCrypto();
    for (;;) {
        const status = await crypto.getDeviceVerificationStatus(state.userId, client.getDeviceId());
        if (status?.signedByOwner) return;
        if (performance.now() > deadline) {
            throw new CommandError("not_cross_signed", "this device is still not signed by its owner after sync");
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
}

async function createDm({ invitee }) {
    const client = requireStarted();
    const { room_id } = await client.createRoom({
        is_direct: true,
        preset: sdk.Preset.TrustedPrivateChat,
        invite: [invitee],
        initial_state: [
            {
                type: "m.room.encryption",
                state_key: "",
                content: { algorithm: ENCRYPTION_ALGORITHM },
            },
        ],
    });
    // Element records DMs in m.direct account data; do the same so the room looks real.
    const direct = client.getAccountData(sdk.EventType.Direct)?.getContent() ?? {};
    direct[invitee] = [...(direct[invitee] ?? []), room_id];
    await client.setAccountData(sdk.EventType.Direct, direct);
    return { room_id };
}

async function joinedEncryptedRoom(roomId, timeoutMs) {
    const client = requireStarted();
    return waitFor(
        () => {
            const room = client.getRoom(roomId);
            if (room?.getMyMembership() === sdk.KnownMembership.Join && room.hasEncryptionStateEvent()) {
                return room;
            }
            return undefined;
        },
        timeoutMs,
        () => {
            const room = client.getRoom(roomId);
            if (room?.getMyMembership() === sdk.KnownMembership.Join) {
                return new CommandError("room_not_encrypted", "room has no m.room.encryption state: refusing to send");
            }
            return new CommandError("not_joined", "this device's user has not joined the room (yet)");
        },
    );
}

async function join({ room_id, timeout_ms = 15000 }) {
    const client = requireStarted();
    await client.joinRoom(room_id);
    await joinedEncryptedRoom(room_id, timeout_ms);
    return { room_id };
}

async function sendText({ room_id, body, timeout_ms = 15000 }) {
    const client = requireStarted();
    await joinedEncryptedRoom(room_id, timeout_ms);
    if (!(await client.getCrypto().isEncryptionEnabledInRoom(room_id))) {
        throw new CommandError("room_not_encrypted", "crypto does not consider the room encrypted");
    }
    const { event_id } = await client.sendMessage(room_id, { msgtype: "m.text", body });
    return { event_id };
}

function failureSummary(records, sender) {
    const failed = records.filter((r) => r.status === "failed" && (!sender || r.sender === sender));
    return { undecryptable: failed.length, reasons: [...new Set(failed.map((r) => r.reason))] };
}

// contains: a string or a list of strings the body must all hold; after_ts: only events
// the server stamped at or after it (ms).
async function waitForMessage({ room_id, sender, contains, after_ts, timeout_ms = 15000 }) {
    requireStarted();
    const parts = contains === undefined ? [] : [contains].flat();
    const matches = (r) =>
        r.status === "decrypted" &&
        (!sender || r.sender === sender) &&
        (after_ts === undefined || r.ts >= after_ts) &&
        parts.every((part) => r.body.includes(part));
    return waitFor(
        () => {
            const hit = roomRecords(room_id).find(matches);
            return hit && { body: hit.body, sender: hit.sender, event_id: hit.event_id,
                            ts: hit.ts, decrypted_at: hit.decrypted_at };
        },
        timeout_ms,
        () => {
            const summary = failureSummary(roomRecords(room_id), sender);
            if (summary.undecryptable > 0) {
                return new CommandError(
                    "undecryptable",
                    `no matching message decrypted; ${summary.undecryptable} could not be decrypted` +
                        ` (${summary.reasons.join(", ")})`,
                    summary,
                );
            }
            return new CommandError("timeout", "no matching message arrived in time", summary);
        },
    );
}

async function waitForUndecryptable({ room_id, sender, reason, timeout_ms = 15000 }) {
    requireStarted();
    const matches = (r) =>
        r.status === "failed" && (!sender || r.sender === sender) && (!reason || r.reason === reason);
    return waitFor(
        () => {
            const hit = roomRecords(room_id).find(matches);
            return hit && { reason: hit.reason, sender: hit.sender, event_id: hit.event_id };
        },
        timeout_ms,
        () => new CommandError("timeout", "no matching undecryptable event arrived in time",
            failureSummary(roomRecords(room_id), sender)),
    );
}

// Whether this youth's crypto sees another user's device as cross-signed by its owner (what
// strict mode requires). Polled: the SDK refreshes device lists on its own after a change.
async function waitDeviceSignedByOwner({ user_id, device_id, timeout_ms = 15000 }) {
    const client = requireStarted();
    const deadline = Date.now() + timeout_ms;
    for (;;) {
        const status = await client.getCrypto().getDeviceVerificationStatus(user_id, device_id);
        if (status?.signedByOwner) return { signed_by_owner: true };
        if (Date.now() > deadline) {
            throw new CommandError("timeout", "the device is not signed by its owner in time",
                { known: status !== null });
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
}

function messages({ room_id }) {
    const records = roomRecords(room_id);
    return {
        bodies: records.filter((r) => r.status === "decrypted").map((r) => r.body),
        pending: records.filter((r) => r.status === "pending").length,
        ...failureSummary(records, undefined),
    };
}

async function waitForInvite({ timeout_ms = 15000 }) {
    const client = requireStarted();
    const roomId = await waitFor(
        () =>
            client
                .getRooms()
                .find((room) =>
                    room.getMyMembership() === sdk.KnownMembership.Invite &&
                    !state.handedOutInvites.has(room.roomId))?.roomId,
        timeout_ms,
        () => new CommandError("timeout", "no invite arrived in time"),
    );
    state.handedOutInvites.add(roomId);
    return join({ room_id: roomId, timeout_ms });
}

async function stop() {
    if (state.client) {
        state.client.stopClient();
        state.client.getCrypto()?.stop?.();
    }
    setImmediate(() => process.exit(0));
    return {};
}

const COMMANDS = {
    login,
    start,
    create_dm: createDm,
    join,
    send: sendText,
    wait_for_message: waitForMessage,
    wait_for_undecryptable: waitForUndecryptable,
    wait_device_signed_by_owner: waitDeviceSignedByOwner,
    messages,
    wait_for_invite: waitForInvite,
    stop,
};

// ---- protocol loop ----------------------------------------------------------------------

async function handle(line) {
    let request;
    try {
        request = JSON.parse(line);
    } catch {
        send({ id: null, ok: false, error: { code: "bad_request", message: "line is not JSON" } });
        return;
    }
    const { id, cmd, ...args } = request;
    const command = COMMANDS[cmd];
    if (!command) {
        send({ id, ok: false, error: { code: "unknown_command", message: `unknown command ${cmd}` } });
        return;
    }
    const t0 = performance.now();
    try {
        const result = await command(args);
        log(`${cmd} ok in ${Math.round(performance.now() - t0)} ms`);
        send({ id, ok: true, result });
    } catch (err) {
        const code = err instanceof CommandError ? err.code : (err?.errcode ?? err?.name ?? "error");
        log(`${cmd} failed (${code}) in ${Math.round(performance.now() - t0)} ms`);
        const details = err instanceof CommandError ? err.details : {};
        send({ id, ok: false, error: { code, message: String(err?.message ?? err), ...details } });
    }
}

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
    if (line.trim()) void handle(line);
});
// The test process went away: leave with it rather than syncing forever.
lines.on("close", () => void stop());
send({ id: null, ok: true, result: { ready: true } });
