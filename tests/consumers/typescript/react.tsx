// Every export of @reactor-wasm/sdk/react as a TypeScript React app uses it,
// type-checked with `tsc --strict` against the packaged react.d.ts and
// @types/react. Never run: only compiled. The `@ts-expect-error` lines must
// be errors, so the check fails if the declarations become too loose.
import { useRef } from "react";
import type { ReactorError, ReactorSchema, ReactorStatus, ReactorWaitingInfo } from "@reactor-wasm/sdk";
import { Reactor } from "@reactor-wasm/sdk";
import {
  ReactorProvider,
  ReactorView,
  WebcamStream,
  useLastError,
  useModelTrack,
  useReactor,
  useReactorMessage,
  useReactorStatus,
  useSchema,
  useStats,
  useWaitingInfo,
  useWebcamStream,
  type ReactorProviderProps,
  type ReactorStats,
  type ReactorStoreState,
  type WebcamState,
} from "@reactor-wasm/sdk/react";
import { assertType, type Equals } from "./expect";


function Panel() {
  const reactor: Reactor = useReactor();
  const status = useReactorStatus();
  assertType<Equals<typeof status, ReactorStatus>>();
  assertType<Equals<ReturnType<typeof useWaitingInfo>, ReactorWaitingInfo | undefined>>();
  assertType<Equals<ReturnType<typeof useLastError>, ReactorError | undefined>>();
  assertType<Equals<ReturnType<typeof useSchema>, ReactorSchema | undefined>>();
  assertType<Equals<ReturnType<typeof useStats>, ReactorStats | undefined>>();
  assertType<Equals<ReturnType<typeof useModelTrack>, MediaStreamTrack | null>>();
  const fps: number | undefined = useStats()?.fps;
  const position = useReactor((s: ReactorStoreState) => s.waitingInfo?.position);
  assertType<Equals<typeof position, number | undefined>>();
  const names = useReactor((s) => s.schema?.commands.map((c) => c.name) ?? []);
  assertType<Equals<typeof names, string[]>>();
  useReactorMessage((message) => console.log(message));
  const latest = useReactorMessage();
  const schema = useSchema();
  const bounds = schema?.commands[0]?.parameters["brightness"]?.maximum;
  assertType<Equals<typeof bounds, number | undefined>>();
  const webcam: WebcamState = useWebcamStream({ video: { width: 640 } });
  const video = useRef<HTMLVideoElement>(null);
  // @ts-expect-error a selector takes the store's state, not a string
  useReactor((s: string) => s);
  // @ts-expect-error the status is not a number
  const wrong: number = useReactorStatus();
  void wrong;
  return (
    <div>
      <p>{status} {fps} {names.join(",")} {String(latest)} {String(webcam.published)}</p>
      <ReactorView videoRef={video} className="model" width={320} />
      <WebcamStream constraints={{ video: true }}>{({ published }) => <span>{published ? "on" : "off"}</span>}</WebcamStream>
      <WebcamStream />
      <button onClick={() => reactor.sendMessage({ type: "set_brightness", data: { brightness: 0.5 } })}>send</button>
    </div>
  );
}

const props: ReactorProviderProps = { modelName: "echo", insecureApiKey: "dev-key", validateMessages: true, autoConnect: true };
export const app = (
  <ReactorProvider {...props} queueing coordinatorUrl="http://localhost:8080">
    <Panel />
  </ReactorProvider>
);
// @ts-expect-error modelName is required
export const missing = <ReactorProvider insecureApiKey="dev-key" />;
// @ts-expect-error autoConnect is a boolean
export const badAuto = <ReactorProvider modelName="echo" insecureApiKey="k" autoConnect="yes" />;
