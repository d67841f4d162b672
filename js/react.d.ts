// Types of the React entry (react.js): `@reactor-wasm/sdk/react`.
import type { ReactNode, RefObject, VideoHTMLAttributes, JSX } from "react";
import type {
  Reactor,
  ReactorError,
  ReactorOptions,
  ReactorSchema,
  ReactorStatus,
  ReactorWaitingInfo,
} from "./index.js";

export interface ReactorProviderProps extends ReactorOptions {
  /** Connect once mounted (and again if remounted); default false. */
  autoConnect?: boolean;
  children?: ReactNode;
}

/** The model video's statistics: `fps` from the `fps` event, and whatever richer stats the SDK reports. */
export interface ReactorStats {
  fps?: number;
  [name: string]: unknown;
}

/** What `useReactor(selector)` selects from. */
export interface ReactorStoreState {
  reactor: Reactor;
  status: ReactorStatus;
  waitingInfo: ReactorWaitingInfo | undefined;
  lastError: ReactorError | undefined;
  schema: ReactorSchema | undefined;
  /** The model's video track (`streamChanged`), or null. */
  track: MediaStreamTrack | null;
  stats: ReactorStats | undefined;
  /** The latest message from the model, boxed so that equal messages still count as new. */
  message: { value: any } | undefined;
}

/** Owns one Reactor for its options; disconnects it on unmount. */
export function ReactorProvider(props: ReactorProviderProps): JSX.Element;

/** The Reactor of the nearest provider, to call its methods. */
export function useReactor(): Reactor;
/** A value selected from the provider's state; re-renders when it changes (Object.is). */
export function useReactor<T>(selector: (state: ReactorStoreState) => T): T;

export function useReactorStatus(): ReactorStatus;
export function useWaitingInfo(): ReactorWaitingInfo | undefined;
export function useLastError(): ReactorError | undefined;
export function useSchema(): ReactorSchema | undefined;
export function useStats(): ReactorStats | undefined;
export function useModelTrack(): MediaStreamTrack | null;

/** Calls `handler` with every message from the model while mounted. */
export function useReactorMessage(handler: (message: any) => void): void;
/** The latest message from the model, or undefined before the first. */
export function useReactorMessage(): any;

export interface ReactorViewProps extends VideoHTMLAttributes<HTMLVideoElement> {
  /** The <video> element, for apps that need it (size, frames). */
  videoRef?: RefObject<HTMLVideoElement | null>;
}

/** A muted, inline, autoplaying <video> showing the model's track. */
export function ReactorView(props: ReactorViewProps): JSX.Element;

export interface WebcamState {
  stream: MediaStream | null;
  /** The model has accepted the camera. */
  published: boolean;
  /** getUserMedia's or publishVideoStream's failure. */
  error: unknown;
}

/** Publishes the camera to the model while mounted and ready; stops it on unmount. */
export function useWebcamStream(constraints?: MediaStreamConstraints): WebcamState;

export interface WebcamStreamProps {
  constraints?: MediaStreamConstraints;
  /** Render something from the camera's state (a preview, an error). */
  children?: (state: WebcamState) => ReactNode;
}

export function WebcamStream(props: WebcamStreamProps): JSX.Element | null;
