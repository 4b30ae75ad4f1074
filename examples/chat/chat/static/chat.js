// The room page: one WebSocket to /ws/<room>, JSON events in, {"text": ...} out.
(function () {
  "use strict";
  const room = document.querySelector(".room");
  const list = document.getElementById("messages");
  const people = document.getElementById("people");
  const status = document.getElementById("status");
  const form = document.getElementById("say");
  const input = document.getElementById("text");
  const button = form.querySelector("button");
  const me = room.dataset.name;
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const socket = new WebSocket(scheme + location.host + room.dataset.socket);

  const NAME_TAKEN = 4409; // the server's close code for a name already in the room
  const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
  const full = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "long" });

  function add(className, parts) {
    const item = document.createElement("li");
    item.className = className;
    for (const part of parts) item.appendChild(part);
    list.appendChild(item);
    list.scrollTop = list.scrollHeight;
  }

  function element(tag, value) {
    const part = document.createElement(tag);
    part.textContent = value; // never innerHTML: messages are untrusted
    return part;
  }

  // The server sends UTC (ISO 8601); the reader sees their own local time.
  function time(iso) {
    const part = document.createElement("time");
    const at = new Date(iso);
    part.dateTime = iso;
    part.textContent = clock.format(at);
    part.title = full.format(at);
    return part;
  }

  function show(event) {
    if (event.type === "message") {
      add(event.name === me ? "message mine" : "message", [element("b", event.name), element("span", event.text), time(event.at)]);
    } else if (event.type === "joined" || event.type === "left") {
      add("notice", [element("span", `${event.name} ${event.type} the room`)]);
    } else if (event.type === "error") {
      add("notice error", [element("span", event.error)]);
    }
    if (event.people) people.textContent = event.people.join(", ");
  }

  socket.addEventListener("open", () => {
    status.textContent = "connected";
    status.classList.add("ok");
    input.disabled = button.disabled = false;
    input.focus();
  });
  socket.addEventListener("message", (message) => {
    const event = JSON.parse(message.data);
    if (event.type === "history") {
      event.messages.forEach(show);
      people.textContent = event.people.join(", ");
    } else {
      show(event);
    }
  });
  socket.addEventListener("close", (event) => {
    if (event.code === NAME_TAKEN) {
      const back = element("a", "Choose another name");
      back.href = room.dataset.home;
      add("notice error", [element("span", event.reason + " "), back]);
    }
    status.textContent = event.code === NAME_TAKEN ? "name taken" : `disconnected (${event.code})`;
    status.classList.remove("ok");
    input.disabled = button.disabled = true;
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (text && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ text }));
      input.value = "";
    }
  });
})();
