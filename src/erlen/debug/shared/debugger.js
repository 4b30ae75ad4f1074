// Erlen debugger: a Python console per traceback frame.
//
// The page's <body> carries the debugger's URL, the per-process secret, the
// traceback's id, and whether the console is on and needs the PIN. Until the
// PIN is entered the page has no local variables; "Show local variables"
// (or any unlock) fetches them. Every console request is a
// same-origin POST; the auth cookie is HttpOnly, so the script learns that it
// expired only from a 403 with "auth_required", and then asks for the PIN.
(() => {
  "use strict";

  const body = document.body;
  const baseUrl = body.dataset.url;
  const secret = body.dataset.secret;
  const tracebackId = body.dataset.traceback;
  let pinRequired = body.dataset.pin === "required";
  let pinPrompt = null; // the pending PIN dialog's promise, shared by consoles

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  async function post(cmd, form, query = {}) {
    const params = new URLSearchParams({ cmd, s: secret, ...query });
    let response;
    try {
      response = await fetch(`${baseUrl}?${params}`, {
        method: "POST",
        body: new URLSearchParams(form),
        credentials: "same-origin",
      });
    } catch (error) {
      return { ok: false, data: { error: `The server can't be reached (${error.message}).` } };
    }
    const text = await response.text();
    let data;
    try {
      data = JSON.parse(text);
    } catch {
      data = { error: text.trim() || `${response.status} ${response.statusText}` };
    }
    return { ok: response.ok, data };
  }

  // Ask for the PIN once; resolves when a correct PIN was entered.
  function askPin() {
    if (pinPrompt) return pinPrompt;
    pinPrompt = new Promise((resolve) => {
      const overlay = el("div", "pin-overlay");
      const dialog = el("form", "pin-dialog");
      dialog.append(
        el("h2", "", "Console locked"),
        el("p", "", "Enter the PIN printed in the terminal where the server runs."),
      );
      const input = el("input");
      Object.assign(input, { type: "password", autocomplete: "off", placeholder: "123-456-789" });
      input.setAttribute("aria-label", "Debugger PIN");
      const button = el("button", "", "Unlock");
      button.type = "submit";
      const message = el("p", "pin-error");
      message.setAttribute("role", "alert");
      dialog.append(input, button, message);
      overlay.append(dialog);
      body.append(overlay);
      input.focus();

      dialog.addEventListener("submit", async (event) => {
        event.preventDefault();
        button.disabled = true;
        const { data } = await post("pinauth", { pin: input.value });
        if (data.auth) {
          overlay.remove();
          pinRequired = false;
          pinPrompt = null;
          resolve();
          fetchLocals(); // unlocked: the frames' locals may be shown now
          return;
        }
        message.textContent = data.error || "The PIN was refused.";
        if (data.exhausted) {
          input.disabled = true;
        } else {
          button.disabled = false;
          input.select();
        }
      });
    });
    return pinPrompt;
  }

  async function execute(frameId, line) {
    if (pinRequired) await askPin();
    let result = await post("exec", { code: line }, { frm: frameId });
    if (result.data.auth_required) {
      pinRequired = true;
      await askPin();
      result = await post("exec", { code: line }, { frm: frameId });
    }
    return result;
  }

  // The page holds no local variable until the PIN is entered; then they
  // come from the "locals" command as plain text, put in with textContent.
  async function fetchLocals() {
    const boxes = document.querySelectorAll(".locals-hidden[data-frame]");
    if (!boxes.length) return;
    const { ok, data } = await post("locals", {}, { tb: tracebackId });
    if (data.auth_required) {
      pinRequired = true;
      askPin(); // fetches again once unlocked
      return;
    }
    for (const box of boxes) {
      const frame = ok ? data.frames[box.dataset.frame] : undefined;
      if (!frame) {
        box.replaceChildren(el("p", "nolocals", data.error || "The local variables are not available."));
        continue;
      }
      const shown = [];
      if (frame.locals.length) {
        const table = el("table", "locals");
        for (const [name, value] of frame.locals) {
          const row = el("tr");
          const cell = el("td");
          cell.append(el("code", "", value));
          row.append(el("th", "", name), cell);
          table.append(row);
        }
        shown.push(table);
      } else {
        shown.push(el("p", "nolocals", "No local variables."));
      }
      if (frame.more) shown.push(el("p", "nolocals", `${frame.more} more (use the console).`));
      box.replaceWith(...shown);
    }
  }

  async function showLocals() {
    if (pinRequired) await askPin(); // fetches them once unlocked
    else await fetchLocals();
  }

  function openConsole(box) {
    const frameId = box.dataset.frame;
    const output = el("pre", "output");
    const form = el("form", "prompt");
    const ps = el("span", "ps", ">>> ");
    const input = el("input");
    Object.assign(input, { type: "text", autocomplete: "off", spellcheck: false });
    input.setAttribute("aria-label", "Python input");
    form.append(ps, input);
    box.replaceChildren(output, form);
    input.focus();

    const history = [];
    let position = 0;

    input.addEventListener("keydown", (event) => {
      if (event.key !== "ArrowUp" && event.key !== "ArrowDown") return;
      event.preventDefault();
      position = Math.max(0, Math.min(history.length, position + (event.key === "ArrowUp" ? -1 : 1)));
      input.value = history[position] ?? "";
    });

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const line = input.value;
      if (line.trim()) history.push(line);
      position = history.length;
      input.value = "";
      output.append(document.createTextNode(`${ps.textContent}${line}\n`));
      input.disabled = true;
      const { ok, data } = await execute(frameId, line);
      if (ok) {
        // The server escaped the output already.
        output.insertAdjacentHTML("beforeend", data.output);
        ps.textContent = data.prompt;
      } else {
        output.append(el("span", "error", `${data.error}\n`));
      }
      input.disabled = false;
      input.focus();
      output.scrollTop = output.scrollHeight;
    });
  }

  for (const box of document.querySelectorAll(".locals-hidden[data-frame]")) {
    const button = el("button", "show-locals", "Show local variables");
    button.type = "button";
    button.addEventListener("click", showLocals);
    box.append(button);
  }

  for (const box of document.querySelectorAll(".console[data-frame]")) {
    const button = el("button", "open-console", "Open a console in this frame");
    button.type = "button";
    button.addEventListener("click", () => openConsole(box));
    box.append(button);
  }
})();
