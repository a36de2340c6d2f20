// The event-stream client: one WebSocket to /ws/recursion that remembers the last seq,
// reconnects with backoff passing `since`, honours 1013 `resume_from`, drops duplicate
// seqs, and reports its state (live / reconnecting / offline).
import { isControlFrame, parseFrame, type EventFrame } from './events';

export type ConnectionState = 'live' | 'reconnecting' | 'offline';

/** First reconnect delay; doubles per failed try up to the maximum. */
export const BACKOFF_INITIAL_MS = 500;
export const BACKOFF_MAX_MS = 10_000;
const BACKOFF_FACTOR = 2;
/** Failed tries in a row after which the indicator says offline rather than reconnecting. */
export const OFFLINE_AFTER_FAILURES = 3;
/** The server sends a heartbeat every 15 s; silence this long means the socket is dead. */
export const SILENCE_TIMEOUT_MS = 45_000;
/** Close code of a subscriber that fell behind; its reason carries `resume_from`. */
export const CLOSE_TRY_AGAIN = 1013;
/** WebSocket.CONNECTING: closing such a socket makes browsers log an error. */
const STATE_CONNECTING = 0;

/** The part of the browser WebSocket this client uses (a fake one in tests). */
export interface SocketLike {
  readonly readyState?: number;
  onopen: ((ev: Event) => void) | null;
  onmessage: ((ev: MessageEvent) => void) | null;
  onclose: ((ev: CloseEvent) => void) | null;
  onerror: ((ev: Event) => void) | null;
  close(code?: number, reason?: string): void;
}

export type SocketFactory = (url: string) => SocketLike;

export interface StreamOptions {
  /** Builds the URL for a connection; `since` is null when no event was seen yet. */
  url: (since: number | null) => string;
  onEvent: (frame: EventFrame) => void;
  onState?: (state: ConnectionState) => void;
  /** A reconnect that could not resume (no seq known): callers should refetch snapshots. */
  onResync?: () => void;
  /** A control `error` frame's message. */
  onServerError?: (message: string) => void;
  socketFactory?: SocketFactory;
  setTimer?: (fn: () => void, ms: number) => number;
  clearTimer?: (id: number) => void;
}

/** Builds the stream URL on this page's origin. */
export function streamUrl(key: string, since: number | null, jobId?: string): string {
  const proto = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  const params = new URLSearchParams({ token: key });
  if (since !== null) params.set('since', String(since));
  if (jobId) params.set('job_id', jobId);
  return `${proto}//${window.location.host}/ws/recursion?${params.toString()}`;
}

export function backoffDelay(failures: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_INITIAL_MS * BACKOFF_FACTOR ** Math.max(0, failures));
}

function resumeFrom(reason: string): number | null {
  try {
    const v: unknown = JSON.parse(reason);
    if (v && typeof v === 'object' && typeof (v as Record<string, unknown>).resume_from === 'number') {
      return (v as { resume_from: number }).resume_from;
    }
  } catch {
    // Not JSON: no resume point.
  }
  return null;
}

export class StreamClient {
  /** The highest stored-event seq received (or confirmed by the server); null before any. */
  lastSeq: number | null = null;
  state: ConnectionState = 'offline';
  private socket: SocketLike | null = null;
  private failures = 0;
  private stopped = true;
  private everOpened = false;
  private reconnectTimer: number | null = null;
  private silenceTimer: number | null = null;
  private readonly setTimer: (fn: () => void, ms: number) => number;
  private readonly clearTimer: (id: number) => void;
  private readonly socketFactory: SocketFactory;

  constructor(private readonly options: StreamOptions) {
    this.setTimer = options.setTimer ?? ((fn, ms) => window.setTimeout(fn, ms));
    this.clearTimer = options.clearTimer ?? ((id) => window.clearTimeout(id));
    this.socketFactory = options.socketFactory ?? ((url) => new WebSocket(url));
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onclose = null;
      socket.onmessage = null;
      socket.onerror = null;
      if (socket.readyState === STATE_CONNECTING) {
        socket.onopen = () => socket.close();
      } else {
        socket.onopen = null;
        socket.close();
      }
    }
    this.setState('offline');
  }

  private setState(state: ConnectionState): void {
    if (state === this.state) return;
    this.state = state;
    this.options.onState?.(state);
  }

  private clearTimers(): void {
    if (this.reconnectTimer !== null) this.clearTimer(this.reconnectTimer);
    if (this.silenceTimer !== null) this.clearTimer(this.silenceTimer);
    this.reconnectTimer = null;
    this.silenceTimer = null;
  }

  private armSilenceTimer(): void {
    if (this.silenceTimer !== null) this.clearTimer(this.silenceTimer);
    this.silenceTimer = this.setTimer(() => {
      this.silenceTimer = null;
      this.socket?.close();
    }, SILENCE_TIMEOUT_MS);
  }

  private connect(): void {
    this.reconnectTimer = null;
    const resuming = this.lastSeq !== null;
    const socket = this.socketFactory(this.options.url(this.lastSeq));
    this.socket = socket;
    socket.onopen = () => {
      this.failures = 0;
      this.armSilenceTimer();
      this.setState('live');
      if (this.everOpened && !resuming) this.options.onResync?.();
      this.everOpened = true;
    };
    socket.onmessage = (ev: MessageEvent) => {
      this.armSilenceTimer();
      if (typeof ev.data === 'string') this.receive(ev.data);
    };
    socket.onerror = () => {
      // The close event that follows decides what to do.
    };
    socket.onclose = (ev: CloseEvent) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.silenceTimer !== null) this.clearTimer(this.silenceTimer);
      this.silenceTimer = null;
      if (this.stopped) return;
      if (ev.code === CLOSE_TRY_AGAIN) {
        const resume = resumeFrom(ev.reason);
        if (resume !== null) this.lastSeq = resume;
        this.setState('reconnecting');
        this.reconnectTimer = this.setTimer(() => this.connect(), 0);
        return;
      }
      const delay = backoffDelay(this.failures);
      this.failures += 1;
      this.setState(this.failures >= OFFLINE_AFTER_FAILURES ? 'offline' : 'reconnecting');
      this.reconnectTimer = this.setTimer(() => this.connect(), delay);
    };
  }

  private receive(text: string): void {
    const frame = parseFrame(text);
    if (!frame) return;
    if (isControlFrame(frame)) {
      // Control frames carry the last seq the server has considered for this connection.
      if (frame.seq > 0 && (this.lastSeq === null || frame.seq > this.lastSeq)) this.lastSeq = frame.seq;
      if (frame.type === 'error') {
        const message = frame.data.error;
        this.options.onServerError?.(typeof message === 'string' ? message : 'stream error');
      }
      return;
    }
    if (this.lastSeq !== null && frame.seq <= this.lastSeq) return;
    this.lastSeq = frame.seq;
    this.options.onEvent(frame);
  }
}
