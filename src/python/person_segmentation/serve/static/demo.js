// The person-segmentation demo page: camera frames (downscaled, JPEG) go to the server over the
// WebSocket /ws, one at a time; each result (the frame drawn by the server) is painted on the
// canvas. A photo goes to POST /api/segment. Nothing is fetched from anywhere but this server.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const output = $("output");
  const input = $("input");
  const video = $("video");
  const scratch = document.createElement("canvas"); // the frame being sent
  const ui = {
    status: $("status"), fps: $("fps"), latency: $("latency"), serverMs: $("server-ms"),
    camera: $("camera"), photo: $("photo"), effect: $("effect"), color: $("color"),
    background: $("background"), clearBackground: $("clear-background"), threshold: $("threshold"),
    backgroundBlur: $("background-blur"), edgeBlur: $("edge-blur"), faceBlur: $("face-blur"),
    resolution: $("resolution"), width: $("width"), flip: $("flip"),
  };
  // State, readable by tests and curious users: window.demo.
  const demo = (window.demo = {
    mode: "idle", // "camera" or "photo"
    received: 0, // results drawn
    photos: 0, // photo results drawn
    optionsVersion: 0, // bumped on every control change
    resultOptionsVersion: -1, // the options version of the result on the canvas
    lastHeader: null,
    errors: [],
    socket: null,
  });
  let stream = null;
  let inFlight = false;
  let sentAt = 0;
  let sentVersion = 0;
  let photoFile = null;
  let backgroundFile = null;
  const times = [];

  function setStatus(text) { ui.status.textContent = text; }

  function options() {
    return {
      output: ui.effect.value,
      threshold: Number(ui.threshold.value),
      background_blur: Number(ui.backgroundBlur.value),
      edge_blur: Number(ui.edgeBlur.value),
      face_blur: Number(ui.faceBlur.value),
      internal_resolution: String(Number(ui.resolution.value)),
      background: ui.color.value,
      flip: ui.flip.checked,
    };
  }

  function showFps(now) {
    times.push(now);
    while (times.length > 1 && now - times[0] > 2000) times.shift();
    const span = (times[times.length - 1] - times[0]) / 1000;
    ui.fps.textContent = times.length > 1 && span > 0 ? ((times.length - 1) / span).toFixed(1) : "0.0";
  }

  async function paint(blob, header) {
    const bitmap = await createImageBitmap(blob);
    if (output.width !== bitmap.width || output.height !== bitmap.height) {
      output.width = bitmap.width;
      output.height = bitmap.height;
    }
    output.getContext("2d").drawImage(bitmap, 0, 0);
    bitmap.close();
    demo.lastHeader = header;
    demo.received += 1;
    const now = performance.now();
    ui.latency.textContent = (now - sentAt).toFixed(0);
    if (header && header.timings) ui.serverMs.textContent = header.timings.total_ms.toFixed(0);
    showFps(now);
  }

  function copyToInput(source, width, height) {
    input.width = width;
    input.height = height;
    input.getContext("2d").drawImage(source, 0, 0, width, height);
  }

  // -- the camera over the WebSocket -----------------------------------------------------------
  function connect() {
    return new Promise((resolve, reject) => {
      const scheme = location.protocol === "https:" ? "wss://" : "ws://";
      const socket = new WebSocket(scheme + location.host + "/ws");
      socket.binaryType = "arraybuffer";
      socket.onopen = () => { demo.socket = socket; sendOptions(); resolve(socket); };
      socket.onerror = () => reject(new Error("cannot connect to the server's WebSocket"));
      socket.onclose = () => { demo.socket = null; if (demo.mode === "camera") setStatus("disconnected"); };
      socket.onmessage = onMessage;
    });
  }

  function sendOptions() {
    if (demo.socket && demo.socket.readyState === WebSocket.OPEN) {
      demo.socket.send(JSON.stringify({ type: "options", ...options() }));
    }
  }

  async function onMessage(event) {
    if (typeof event.data === "string") {
      const message = JSON.parse(event.data);
      if (message.type === "busy") {
        inFlight = false;
        setTimeout(sendFrame, 1000 * (message.retry_after || 1));
      } else if (message.type === "error") {
        demo.errors.push(message);
        setStatus("error: " + message.message);
        inFlight = false;
        setTimeout(sendFrame, 200);
      }
      return;
    }
    if (demo.mode !== "camera") { inFlight = false; return; } // a late frame after the camera stopped
    const view = new DataView(event.data);
    const length = view.getUint32(0);
    const header = JSON.parse(new TextDecoder().decode(new Uint8Array(event.data, 4, length)));
    const jpeg = new Blob([new Uint8Array(event.data, 4 + length)], { type: "image/jpeg" });
    copyToInput(scratch, scratch.width, scratch.height); // the raw frame of this very result
    await paint(jpeg, header);
    demo.resultOptionsVersion = sentVersion;
    inFlight = false;
    setStatus("camera: " + (header.people || 0) + " people");
    requestAnimationFrame(sendFrame);
  }

  function sendFrame() {
    const socket = demo.socket;
    if (demo.mode !== "camera" || inFlight || !socket || socket.readyState !== WebSocket.OPEN) return;
    if (video.readyState < 2 || !video.videoWidth) { requestAnimationFrame(sendFrame); return; }
    const width = Math.min(Number(ui.width.value), video.videoWidth);
    const height = Math.round((video.videoHeight * width) / video.videoWidth);
    scratch.width = width;
    scratch.height = height;
    scratch.getContext("2d").drawImage(video, 0, 0, width, height);
    inFlight = true;
    scratch.toBlob(async (blob) => {
      const bytes = new Uint8Array(await blob.arrayBuffer());
      const message = new Uint8Array(bytes.length + 1);
      message[0] = 70; // "F": a frame
      message.set(bytes, 1);
      sentAt = performance.now();
      sentVersion = demo.optionsVersion;
      socket.send(message);
    }, "image/jpeg", 0.85);
  }

  async function startCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      setStatus("this browser gives no camera here (it needs https or localhost)");
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
    } catch (error) {
      setStatus("no camera: " + error.message);
      return;
    }
    video.srcObject = stream;
    await video.play();
    demo.mode = "camera";
    ui.camera.textContent = "stop camera";
    setStatus("connecting");
    try {
      if (!demo.socket) await connect();
    } catch (error) {
      setStatus(error.message);
      return;
    }
    if (backgroundFile) await sendBackground();
    sendFrame();
  }

  function stopCamera() {
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    demo.mode = "idle";
    ui.camera.textContent = "start camera";
    setStatus("idle");
  }

  async function sendBackground() {
    const socket = demo.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    const bytes = backgroundFile ? new Uint8Array(await backgroundFile.arrayBuffer()) : new Uint8Array(0);
    const message = new Uint8Array(bytes.length + 1);
    message[0] = 66; // "B": the background image (empty: back to the colour)
    message.set(bytes, 1);
    socket.send(message);
  }

  // -- a photo over POST /api/segment ------------------------------------------------------------
  async function segmentPhoto() {
    if (!photoFile) return;
    const version = demo.optionsVersion;
    const values = options();
    const query = new URLSearchParams({ ...values, format: "png" });
    const form = new FormData();
    form.append("image", photoFile);
    if (backgroundFile && values.output === "replace") form.append("background", backgroundFile);
    setStatus("segmenting the photo");
    sentAt = performance.now();
    const response = await fetch("/api/segment?" + query.toString(), { method: "POST", body: form });
    if (!response.ok) {
      const problem = await response.json();
      demo.errors.push(problem);
      setStatus("error: " + problem.message);
      return;
    }
    const timing = response.headers.get("Server-Timing") || "";
    const total = /total;dur=([0-9.]+)/.exec(timing);
    const bitmap = await createImageBitmap(photoFile);
    copyToInput(bitmap, bitmap.width, bitmap.height);
    bitmap.close();
    await paint(await response.blob(), { timings: { total_ms: total ? Number(total[1]) : 0 } });
    demo.resultOptionsVersion = version;
    demo.photos += 1;
    setStatus("photo: " + (response.headers.get("X-People") || "0") + " people");
  }

  // -- controls ------------------------------------------------------------------------------------
  function changed() {
    demo.optionsVersion += 1;
    for (const out of document.querySelectorAll("output")) {
      out.textContent = document.getElementById(out.htmlFor).value;
    }
    if (demo.mode === "camera") sendOptions();
    else if (demo.mode === "photo") segmentPhoto();
  }

  for (const control of [ui.effect, ui.color, ui.threshold, ui.backgroundBlur, ui.edgeBlur, ui.faceBlur,
    ui.resolution, ui.width, ui.flip]) {
    control.addEventListener("input", changed);
    control.addEventListener("change", changed);
  }
  ui.camera.addEventListener("click", () => (demo.mode === "camera" ? stopCamera() : startCamera()));
  ui.photo.addEventListener("change", () => {
    if (!ui.photo.files.length) return;
    stopCamera();
    photoFile = ui.photo.files[0];
    demo.mode = "photo";
    segmentPhoto();
  });
  ui.background.addEventListener("change", async () => {
    backgroundFile = ui.background.files.length ? ui.background.files[0] : null;
    ui.effect.value = "replace";
    await sendBackground();
    changed();
  });
  ui.clearBackground.addEventListener("click", async () => {
    backgroundFile = null;
    ui.background.value = "";
    await sendBackground();
    changed();
  });
  setStatus("ready: start the camera or pick a photo");
})();
