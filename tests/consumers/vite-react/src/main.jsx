// A Vite + React app using @reactor-wasm/sdk/react the way the README says,
// under StrictMode (its double mount must not open a second connection).
// With ?coordinator=<url> it connects to `echo` (autoConnect), publishes the
// camera, shows the model's video and one form per command of the model's
// schema. tests/consumers/consumers.test.mjs drives it through the page and
// window.app (mount / unmount), and reads window.probe().
import "./probe.js";
import { StrictMode, useState } from "react";
import { createRoot } from "react-dom/client";
import {
  ReactorProvider,
  ReactorView,
  WebcamStream,
  useLastError,
  useReactor,
  useReactorMessage,
  useReactorStatus,
  useSchema,
  useStats,
} from "@reactor-wasm/sdk/react";
import { Example } from "./Example.jsx";

/** One input per parameter, from its JSON Schema: type, default, bounds. */
function Field({ name, schema }) {
  const types = [schema.type ?? schema.anyOf?.map((s) => s.type)].flat();
  const common = { name, "data-type": types.includes("integer") ? "integer" : types[0] };
  if (schema.enum) {
    return <select {...common} defaultValue={schema.default}>{schema.enum.map((v) => <option key={v}>{v}</option>)}</select>;
  }
  if (types.includes("boolean")) return <input {...common} type="checkbox" defaultChecked={schema.default === true} />;
  if (types.includes("number") || types.includes("integer")) {
    const step = types.includes("integer") ? 1 : "any";
    return <input {...common} type="number" step={step} min={schema.minimum} max={schema.maximum} defaultValue={schema.default} />;
  }
  return <input {...common} type="text" defaultValue={schema.default ?? ""} />;
}

function read(input) {
  if (input.type === "checkbox") return input.checked;
  if (input.dataset.type === "number" || input.dataset.type === "integer") return Number(input.value);
  return input.value;
}

function CommandForm({ command, onSent }) {
  const reactor = useReactor();
  const submit = async (event) => {
    event.preventDefault();
    const data = {};
    for (const input of event.currentTarget.querySelectorAll("[name]")) data[input.name] = read(input);
    try {
      await reactor.sendMessage({ type: command.name, data });
      onSent({ ok: command.name });
    } catch (e) {
      onSent({ code: e.code, parameter: e.parameter, message: e.message });
    }
  };
  // noValidate: the SDK checks the values (validateMessages), not the browser.
  return (
    <form className="command" data-command={command.name} onSubmit={submit} noValidate>
      <strong title={command.description}>{command.name}</strong>
      {Object.entries(command.parameters).map(([name, schema]) => (
        <label key={name}>
          {name} <Field name={name} schema={schema} />
        </label>
      ))}
      <button>Send</button>
    </form>
  );
}

function Session() {
  const status = useReactorStatus();
  const schema = useSchema();
  const lastError = useLastError();
  const stats = useStats();
  const latest = useReactorMessage();
  const [messages, setMessages] = useState([]);
  const [sent, setSent] = useState(null);
  useReactorMessage((m) => setMessages((list) => [...list.slice(-20), m]));
  return (
    <section>
      <p>
        status: <span id="status">{status}</span> · fps: <span id="fps">{stats?.fps?.toFixed(0) ?? "–"}</span> · error:{" "}
        <span id="error">{lastError?.code ?? ""}</span>
      </p>
      <ReactorView id="video" width={320} height={240} />
      <WebcamStream>{({ published }) => <p id="camera">{published ? "camera published" : "camera off"}</p>}</WebcamStream>
      <div id="commands">{schema?.commands.map((c) => <CommandForm key={c.name} command={c} onSent={setSent} />)}</div>
      <pre id="sent">{sent ? JSON.stringify(sent) : ""}</pre>
      <pre id="latest">{latest ? JSON.stringify(latest) : ""}</pre>
      <ol id="messages">{messages.map((m, i) => <li key={i}>{JSON.stringify(m)}</li>)}</ol>
    </section>
  );
}

/** What is mounted: the test's session, README.md's example, or nothing (window.app switches). */
function App({ coordinatorUrl }) {
  const [view, setView] = useState("session");
  window.app = { mount: () => setView("session"), unmount: () => setView("none"), example: () => setView("example") };
  if (view === "example") return <Example coordinatorUrl={coordinatorUrl} />;
  if (view === "none") return <p id="unmounted">unmounted</p>;
  return (
    <ReactorProvider modelName="echo" insecureApiKey="dev-key" queueing coordinatorUrl={coordinatorUrl} validateMessages autoConnect>
      <Session />
    </ReactorProvider>
  );
}

const coordinatorUrl = new URLSearchParams(location.search).get("coordinator");
window.consumer = { bundler: "vite-react", loaded: typeof ReactorProvider === "function" };
if (coordinatorUrl) {
  createRoot(document.getElementById("root")).render(
    <StrictMode>
      <App coordinatorUrl={coordinatorUrl} />
    </StrictMode>,
  );
}
