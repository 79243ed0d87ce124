// The create page: queue a job, follow its server-sent events, show the step counter, previews and results.
"use strict";

const $ = (id) => document.getElementById(id);
const csrf = document.querySelector('meta[name="csrf-token"]').content;
let current = null; // {id, source}

// One clear, distinct message per error code (the API's stable codes).
function showError(err) {
  const box = $("message");
  box.className = "notice notice-" + err.code;
  box.replaceChildren();
  const title = document.createElement("strong");
  const text = document.createElement("p");
  if (err.code === "content_policy_violation") {
    title.textContent = "Prompt refused" + (err.category ? " — " + err.category : "");
    text.textContent = err.reason || err.message;
    box.append(title, text, contestForm($("prompt").value));
    box.hidden = false;
    return;
  } else if (err.code === "rate_limited") {
    title.textContent = "You're going a bit fast";
    text.textContent = "Rate limit reached. Try again in " + (err.retry_after || "a few") + " seconds.";
  } else if (err.code === "region_unavailable") {
    title.textContent = "Not available in your region";
    text.textContent = err.message;
  } else if (err.code === "server_busy") {
    title.textContent = "Server busy";
    text.textContent = "Too many people are generating right now. Try again in " + (err.retry_after || "a few") + " seconds.";
  } else {
    title.textContent = "Something went wrong";
    text.textContent = err.message || "Unexpected error.";
  }
  box.append(title, text);
  box.hidden = false;
}

// "This was wrong": the refused prompt goes to the operators with an optional note.
function contestForm(prompt) {
  const form = document.createElement("form");
  form.id = "contest";
  form.className = "row";
  const note = document.createElement("input");
  note.type = "text"; note.name = "comment"; note.id = "contest-comment"; note.maxLength = 2000;
  note.placeholder = "Why was this wrong? (optional)"; note.setAttribute("aria-label", "Why was this refusal wrong?");
  const send = document.createElement("button");
  send.type = "submit"; send.id = "contest-send"; send.className = "button small secondary";
  send.textContent = "This was wrong";
  form.append(note, send);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    send.disabled = true;
    const res = await fetch("/api/v1/policy/reports", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ prompt: prompt, comment: note.value }),
    });
    const done = document.createElement("p");
    done.id = "contest-result";
    if (res.ok) {
      done.textContent = "Thank you. Your report was sent to the operators, who review refusals reported as wrong.";
      form.replaceWith(done);
    } else {
      const body = await res.json().catch(() => ({}));
      done.textContent = "The report could not be sent: " + ((body.error && body.error.message) || res.status);
      send.disabled = false;
      form.append(done);
    }
  });
  return form;
}

function cell(i) {
  let li = $("grid").children[i];
  if (!li) {
    li = document.createElement("li");
    li.className = "cell loading";
    const img = document.createElement("img");
    img.alt = "Image " + (i + 1) + " (in progress)";
    img.width = 256; img.height = 256;
    li.append(img);
    $("grid").append(li);
  }
  return li;
}

function onProgress(p) {
  $("step-text").textContent = p.status === "queued" ? "Queued…" : "Step " + p.step + " / " + p.total;
  $("step-bar").max = Math.max(1, p.total);
  $("step-bar").value = p.step;
  (p.previews || []).forEach((url, i) => { cell(i).querySelector("img").src = url; });
}

function onDone(payload, params) {
  const job = payload.job;
  $("status").hidden = true;
  if (job.status !== "succeeded") {
    if (job.status === "cancelled") { $("grid").replaceChildren(); return; }
    showError({ code: job.error_code || "generation_failed", message: job.error_message });
    return;
  }
  $("grid").replaceChildren();
  payload.images.forEach((image, i) => {
    const li = cell(i);
    li.className = "cell done";
    const img = li.querySelector("img");
    img.src = image.url;
    img.alt = image.prompt + " (seed " + image.seed + ")";
    const bar = document.createElement("div");
    bar.className = "actions";
    const dl = document.createElement("a");
    dl.href = image.url + "?download=true"; dl.textContent = "Download"; dl.className = "button small secondary";
    dl.setAttribute("download", "");
    const vary = document.createElement("button");
    vary.type = "button"; vary.textContent = "Variations"; vary.className = "button small secondary";
    vary.addEventListener("click", () => start({ ...params, seed: null }));
    const reuse = document.createElement("button");
    reuse.type = "button"; reuse.textContent = "Use seed"; reuse.className = "button small secondary";
    reuse.addEventListener("click", () => { $("seed").value = image.seed; });
    bar.append(dl, vary, reuse);
    li.append(bar);
  });
  if (job.blocked) {
    const note = document.createElement("li");
    note.className = "cell withheld";
    note.textContent = job.blocked + " image(s) withheld by the output checks.";
    $("grid").append(note);
  }
}

function params() {
  const num = (id) => ($(id).value === "" ? null : Number($(id).value));
  const neg = $("negative_prompt").value.trim();
  return {
    prompt: $("prompt").value.replace(/[\r\n\t]+/g, " ").trim(),
    n: Number($("n").value) || 4,
    seed: num("seed"), steps: num("steps"), guidance: num("guidance"),
    sampler: $("sampler").value, negative_prompt: neg || null,
  };
}

async function start(body) {
  if (current && current.source) current.source.close();
  $("message").hidden = true;
  $("grid").replaceChildren();
  for (let i = 0; i < body.n; i++) cell(i);
  $("status").hidden = false;
  onProgress({ status: "queued", step: 0, total: body.steps || 1 });
  $("generate").disabled = true;
  try {
    const res = await fetch("/api/v1/jobs", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    });
    const data = await res.json();
    if (!res.ok) {
      $("status").hidden = true; $("grid").replaceChildren();
      showError(data.error || { code: "unknown", message: res.statusText });
      return;
    }
    const source = new EventSource("/api/v1/jobs/" + data.id + "/events?cancel_on_disconnect=true");
    current = { id: data.id, source };
    source.addEventListener("progress", (e) => onProgress(JSON.parse(e.data)));
    source.addEventListener("done", (e) => { source.close(); current = null; onDone(JSON.parse(e.data), body); });
    source.onerror = () => { if (source.readyState === EventSource.CLOSED) { $("status").hidden = true; } };
  } catch (e) {
    $("status").hidden = true;
    showError({ code: "network", message: "Could not reach the server: " + e });
  } finally {
    $("generate").disabled = false;
  }
}

$("generate-form").addEventListener("submit", (e) => { e.preventDefault(); start(params()); });
$("prompt").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("generate-form").requestSubmit(); }
});
$("cancel").addEventListener("click", async () => {
  if (!current) return;
  current.source.close();
  await fetch("/api/v1/jobs/" + current.id, { method: "DELETE", headers: { "X-CSRF-Token": csrf } });
  current = null; $("status").hidden = true; $("grid").replaceChildren();
});
