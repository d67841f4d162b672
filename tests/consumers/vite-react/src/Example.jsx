import { ReactorProvider, ReactorView, WebcamStream, useReactor, useReactorMessage, useReactorStatus, useSchema } from "@reactor-wasm/sdk/react";

// A button per command of the model's schema, sending its defaults.
function Commands() {
  const reactor = useReactor(); // the provider's Reactor, for its methods
  const schema = useSchema(); // undefined until the machine is reached
  const send = (command) => {
    const data = Object.fromEntries(Object.entries(command.parameters).map(([name, p]) => [name, p.default]));
    reactor.sendMessage({ type: command.name, data }).catch((e) => console.error(e.code, e.message));
  };
  return schema?.commands.map((c) => <button key={c.name} title={c.description} onClick={() => send(c)}>{c.name}</button>);
}

export function Example({ coordinatorUrl = "http://localhost:8080" }) {
  return (
    <ReactorProvider modelName="echo" insecureApiKey="dev-key" queueing coordinatorUrl={coordinatorUrl} autoConnect>
      <Status />
      <ReactorView style={{ width: 320 }} />
      <WebcamStream />
      <Commands />
      <LastMessage />
    </ReactorProvider>
  );
}

function Status() {
  return <p className="status">{useReactorStatus()}</p>;
}

function LastMessage() {
  const message = useReactorMessage(); // the latest one; useReactorMessage(fn) calls fn for each
  return <pre className="message">{message ? JSON.stringify(message) : ""}</pre>;
}
