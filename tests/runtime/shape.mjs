// Compares two JSON values by shape: the same keys, and the same JSON type
// at every place; not the same values. Used to hold our simulated machines
// to what the real runtime answers.

/** Keys whose members are named by the model (commands, messages, JSON
 *  Schema properties): each member is held to the other side's first one,
 *  and the names themselves are not compared. */
const NAMED_BY_MODEL = new Set(["paths", "webhooks", "schemas"]);

export function jsonType(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value; // "object", "string", "number", "boolean"
}

/** Every place where `ours` and `theirs` differ in shape, as readable lines. */
export function shapeDiff(ours, theirs, path = "$", out = []) {
  const a = jsonType(ours);
  const b = jsonType(theirs);
  if (a !== b) {
    out.push(`${path}: ours is ${a} (${clip(ours)}), the runtime's is ${b} (${clip(theirs)})`);
    return out;
  }
  if (a === "array") {
    // An empty array fits any array; items are held to the other side's first.
    if (ours.length && theirs.length) {
      ours.forEach((item, i) => shapeDiff(item, theirs[0], `${path}[${i}]`, out));
      theirs.slice(1).forEach((item, i) => shapeDiff(ours[0], item, `${path}[${i + 1}]`, out));
    }
    return out;
  }
  if (a !== "object") return out;
  const key = path.split(".").at(-1);
  if (NAMED_BY_MODEL.has(key)) {
    const [mine, yours] = [Object.values(ours), Object.values(theirs)];
    if (mine.length && yours.length) {
      mine.forEach((v, i) => shapeDiff(v, yours[0], `${path}.<${Object.keys(ours)[i]}>`, out));
    } else if (mine.length !== yours.length) {
      out.push(`${path}: ours has ${mine.length} members, the runtime's ${yours.length}`);
    }
    return out;
  }
  if (key === "properties") {
    // A command's or message's parameters: each is a JSON Schema with a type.
    for (const [name, schema] of Object.entries({ ...ours, ...theirs })) {
      if (typeof schema?.type !== "string") out.push(`${path}.${name}: a parameter without a JSON Schema type`);
    }
    return out;
  }
  for (const k of new Set([...Object.keys(ours), ...Object.keys(theirs)])) {
    if (!(k in theirs)) out.push(`${path}.${k}: only ours has it (${clip(ours[k])})`);
    else if (!(k in ours)) out.push(`${path}.${k}: only the runtime has it (${clip(theirs[k])})`);
    else shapeDiff(ours[k], theirs[k], `${path}.${k}`, out);
  }
  return out;
}

function clip(value) {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
