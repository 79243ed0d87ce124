// The edit page: choose an input (upload or gallery), paint a mask, queue an edit job, follow its events.
"use strict";

const $ = (id) => document.getElementById(id);
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const picture = $("picture"), maskCanvas = $("mask");
const pctx = picture.getContext("2d"), mctx = maskCanvas.getContext("2d");
let inputFile = null, maskFile = null, painted = false, source = null;

function draw(url) {
  const img = new Image();
  img.onload = () => { pctx.clearRect(0, 0, 256, 256); pctx.drawImage(img, 0, 0, 256, 256); };
  img.src = url;
}

function clearMask() { mctx.clearRect(0, 0, 256, 256); painted = false; }

$("upload").addEventListener("change", (e) => {
  inputFile = e.target.files[0] || null;
  $("image_id").value = "";
  document.querySelectorAll(".pick-image").forEach((b) => b.classList.remove("picked"));
  if (inputFile) { draw(URL.createObjectURL(inputFile)); clearMask(); }
});
document.querySelectorAll(".pick-image").forEach((button) => button.addEventListener("click", () => {
  inputFile = null; $("upload").value = "";
  document.querySelectorAll(".pick-image").forEach((b) => b.classList.remove("picked"));
  button.classList.add("picked");
  $("image_id").value = button.dataset.imageId;
  draw("/api/v1/images/" + button.dataset.imageId + "/file");
  clearMask();
}));
if ($("image_id").value) { draw("/api/v1/images/" + $("image_id").value + "/file"); }

let down = false;
function paint(e) {
  if (!down) return;
  const r = maskCanvas.getBoundingClientRect();
  const x = (e.clientX - r.left) * 256 / r.width, y = (e.clientY - r.top) * 256 / r.height;
  mctx.fillStyle = "rgb(255, 0, 128)";  // opaque: the exported mask is fully transparent here (CSS shows it at 60%)
  mctx.beginPath(); mctx.arc(x, y, Number($("brush").value) / 2, 0, 2 * Math.PI); mctx.fill();
  painted = true;
}
maskCanvas.addEventListener("pointerdown", (e) => { down = true; paint(e); });
maskCanvas.addEventListener("pointermove", paint);
window.addEventListener("pointerup", () => { down = false; });
$("clear-mask").addEventListener("click", clearMask);
$("mask-upload").addEventListener("change", (e) => { maskFile = e.target.files[0] || null; });
$("strength").addEventListener("input", () => { $("strength-value").textContent = $("strength").value; });

// The painted mask as the API wants it: the input's size, opaque everywhere except transparent where painted.
function paintedMask(width, height) {
  return new Promise((resolve) => {
    const out = document.createElement("canvas");
    out.width = width; out.height = height;
    const o = out.getContext("2d");
    o.fillStyle = "black"; o.fillRect(0, 0, width, height);
    o.globalCompositeOperation = "destination-out";
    o.drawImage(maskCanvas, 0, 0, width, height);
    out.toBlob(resolve, "image/png");
  });
}

function inputSize() {
  return new Promise((resolve) => {
    const img = new Image();
    img.onload = () => resolve([img.naturalWidth, img.naturalHeight]);
    img.src = inputFile ? URL.createObjectURL(inputFile) : "/api/v1/images/" + $("image_id").value + "/file";
  });
}

function showError(err) {
  const box = $("message");
  box.className = "notice notice-" + err.code;
  box.textContent = (err.code === "content_policy_violation" ? "Refused: " : "") + (err.reason || err.message);
  box.hidden = false;
}

function cell(i) {
  let li = $("grid").children[i];
  if (!li) {
    li = document.createElement("li");
    li.className = "cell loading";
    const img = document.createElement("img");
    img.alt = "Edit " + (i + 1); img.width = 256; img.height = 256;
    li.append(img);
    $("grid").append(li);
  }
  return li;
}

$("edit-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("message").hidden = true;
  if (!inputFile && !$("image_id").value) { showError({ code: "invalid_request", message: "Choose an image first." }); return; }
  const form = new FormData();
  if (inputFile) form.append("image", inputFile); else form.append("image_id", $("image_id").value);
  if ($("variation").checked) form.append("variation", "true");
  else {
    form.append("prompt", $("prompt").value);
    form.append("strength", $("strength").value);
    if (maskFile) form.append("mask", maskFile, "mask.png");
    else if (painted) { const [w, h] = await inputSize(); form.append("mask", await paintedMask(w, h), "mask.png"); }
  }
  form.append("n", $("n").value);
  if ($("seed").value) form.append("seed", $("seed").value);
  const res = await fetch("/api/v1/edits/jobs", { method: "POST", body: form, headers: { "X-CSRF-Token": csrf } });
  const data = await res.json();
  if (!res.ok) { showError(data.error); return; }
  $("grid").replaceChildren();
  $("status").hidden = false;
  if (source) source.close();
  source = new EventSource("/api/v1/jobs/" + data.id + "/events?cancel_on_disconnect=true");
  source.addEventListener("progress", (ev) => {
    const p = JSON.parse(ev.data);
    $("step-text").textContent = p.status === "queued" ? "Queued…" : "Step " + p.step + " / " + p.total;
    $("step-bar").max = Math.max(1, p.total); $("step-bar").value = p.step;
    (p.previews || []).forEach((url, i) => { cell(i).querySelector("img").src = url; });
  });
  source.addEventListener("done", (ev) => {
    source.close();
    $("status").hidden = true;
    const payload = JSON.parse(ev.data);
    if (payload.job.status !== "succeeded") { showError({ code: payload.job.error_code, message: payload.job.error_message }); return; }
    $("grid").replaceChildren();
    payload.images.forEach((image, i) => {
      const li = cell(i); li.className = "cell done"; li.dataset.imageId = image.id;
      li.querySelector("img").src = image.url;
      const link = document.createElement("a");
      link.href = "/gallery"; link.className = "gallery-link"; link.textContent = "In your gallery";
      li.append(link);
    });
  });
});
