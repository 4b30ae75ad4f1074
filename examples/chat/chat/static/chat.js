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

  function add(className, parts) {
    const item = document.createElement("li");
    item.className = className;
    for (const [tag, text] of parts) {
      const part = document.createElement(tag);
      part.textContent = text; // never innerHTML: messages are untrusted
      item.appendChild(part);
    }
    list.appendChild(item);
    list.scrollTop = list.scrollHeight;
  }

  function show(event) {
    if (event.type === "message") {
      const time = new Date(event.at * 1000).toISOString().slice(11, 16);
      add(event.name === me ? "message mine" : "message", [["b", event.name], ["span", event.text], ["time", time]]);
    } else if (event.type === "joined" || event.type === "left") {
      add("notice", [["span", `${event.name} ${event.type} the room`]]);
    } else if (event.type === "error") {
      add("notice error", [["span", event.error]]);
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
    status.textContent = `disconnected (${event.code})`;
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
