// What the pages once did in inline handlers. The Content-Security-Policy (portal/web.py) allows
// scripts from this site's files only, so the behaviour is attached here by data attributes.

// <form data-confirm="…">: ask before submitting. Capturing on the document runs before htmx's own
// listener on the form, so a cancelled confirmation sends nothing either way.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);

// <select data-autosubmit>: choosing an option submits its form (switching the active role).
document.addEventListener("change", (event) => {
  if (event.target.matches("select[data-autosubmit]")) {
    event.target.form.submit();
  }
});

// The organisation tree: an open branch folds on the next click instead of being fetched again;
// the sign follows the request's outcome, so a failed load never shows an empty branch as open.
document.addEventListener("htmx:beforeRequest", (event) => {
  const button = event.detail.elt;
  if (button.matches("button.toggle") && button.getAttribute("aria-expanded") === "true") {
    event.preventDefault();
    button.parentElement.querySelector(":scope > ul").replaceChildren();
    button.setAttribute("aria-expanded", "false");
    button.textContent = "＋";
  }
});
document.addEventListener("htmx:afterRequest", (event) => {
  const button = event.detail.elt;
  if (button.matches("button.toggle") && event.detail.successful) {
    button.setAttribute("aria-expanded", "true");
    button.textContent = "－";
  }
});

// A page that answers a form sent by POST with its messages shows the address of the page the form
// was on (portal/web.py page_url): reloading it, or coming back to it, never asks again for the
// action URL, which answers only POST.
const pageUrl = document.querySelector('meta[name="page-url"]');
if (pageUrl) {
  history.replaceState(history.state, "", pageUrl.content);
}

// A form sent by htmx that is refused with anything but its own messages (those come back as 422 and
// are swapped in place): no right (403), an expired form (400), a file too large (413), or no
// connection at all. htmx swaps none of these, so the page would not change; the answer's message is
// said above the form instead, and the form keeps what was typed. Only sends: a panel that fails to
// refresh in the background says nothing.
function refused(form, text) {
  let banner = form.previousElementSibling;
  if (!banner || !banner.matches(".request-error")) {
    banner = document.createElement("div");
    banner.className = "flash error request-error";
    banner.setAttribute("role", "alert");
    form.before(banner);
  }
  banner.textContent = text;
}

function sendingForm(event) {
  const form = event.detail.elt.closest("form");
  return form && event.detail.requestConfig.verb !== "get" ? form : null;
}

document.addEventListener("htmx:responseError", (event) => {
  const form = sendingForm(event);
  if (!form) return;
  const answer = new DOMParser().parseFromString(event.detail.xhr.responseText, "text/html");
  const message = answer.querySelector(".error-page p");
  refused(form, message ? message.textContent : `提交未成功（${event.detail.xhr.status}），请刷新页面后重试。`);
});
document.addEventListener("htmx:sendError", (event) => {
  const form = sendingForm(event);
  if (form) refused(form, "网络连接中断，未能提交。请检查网络后重试，已填写的内容仍在。");
});
document.addEventListener("htmx:beforeRequest", (event) => {
  const form = sendingForm(event);
  if (form && form.previousElementSibling && form.previousElementSibling.matches(".request-error")) {
    form.previousElementSibling.remove();
  }
});

// A part of the page swapped in (an item saved, a row changed) carries its own message: the banners
// left from before are cleared, so only what is true now is said.
document.addEventListener("htmx:afterSwap", (event) => {
  if (!event.detail.target.querySelector('.flash[role="status"]')) return;  // a panel refreshing: nothing new said
  document.querySelectorAll('.flash[role="status"]').forEach((banner) => {
    if (!event.detail.target.contains(banner)) banner.remove();
  });
});

// <input type="file" data-compress="1600">: photos taken on a phone are scaled to at most that many
// pixels on their long side and sent as JPEG, so a weak connection carries a few hundred KB, not
// ten MB. The form's buttons wait while the photos are being made smaller.
async function compressed(file, longest) {
  if (!file.type.startsWith("image/")) return file;
  const bitmap = await createImageBitmap(file);
  const ratio = Math.min(1, longest / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(bitmap.width * ratio);
  canvas.height = Math.round(bitmap.height * ratio);
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.75));
  if (!blob || blob.size >= file.size) return file;
  return new File([blob], file.name.replace(/\.[^.]*$/, "") + ".jpg", {type: "image/jpeg"});
}

function setFiles(input, files) {
  const list = new DataTransfer();
  files.forEach((f) => list.items.add(f));
  input.files = list.files;
}

function photoNote(input, text) {
  let note = input.parentElement.querySelector(".photo-note");
  if (!note) {
    note = document.createElement("p");
    note.className = "photo-note small muted";
    input.after(note);
  }
  note.textContent = text;
}

document.addEventListener("change", async (event) => {
  const input = event.target;
  if (!input.matches("input[type=file][data-compress]") || input.dataset.busy) return;
  const buttons = input.form.querySelectorAll("button");
  buttons.forEach((b) => { b.disabled = true; });
  input.dataset.busy = "1";
  try {
    const before = [...input.files];
    const after = await Promise.all(before.map((f) => compressed(f, Number(input.dataset.compress) || 1600)));
    setFiles(input, after);
    const kb = (files) => Math.round(files.reduce((n, f) => n + f.size, 0) / 1024);
    photoNote(input, `${after.length} 张照片，已压缩：${kb(before)} KB → ${kb(after)} KB`);
    saveDraft(input.form);
  } finally {
    delete input.dataset.busy;
    buttons.forEach((b) => { b.disabled = false; });
  }
});

// <form data-draft="name">: what is typed (and the photos, made small) is kept in this browser as it
// is typed, so a dropped connection or a closed tab loses nothing: the page restores it on the next
// visit. The draft keeps the form's request_key, so sending it again after a failed send records it
// once. A page that shows a key as recorded (data-recorded="key …") discards that draft.
const DRAFT = "draft:";

function readFile(file) {
  return new Promise((resolve) => {
    const reader = new FileReader();
    reader.onload = () => resolve({name: file.name, data: reader.result});
    reader.readAsDataURL(file);
  });
}

async function saveDraft(form) {
  if (!form || !form.dataset.draft) return;
  const fields = {};
  const photos = [];
  for (const el of form.elements) {
    if (!el.name || el.name === "csrf_token") continue;
    if (el.type === "file") {
      photos.push(...await Promise.all([...el.files].map(readFile)));
    } else if (el.type === "checkbox" || el.type === "radio") {
      if (el.checked) (fields[el.name] = fields[el.name] || []).push(el.value);
    } else {
      fields[el.name] = el.value;
    }
  }
  const draft = {fields, photos, saved: Date.now()};
  try {
    localStorage.setItem(DRAFT + form.dataset.draft, JSON.stringify(draft));
  } catch (e) {  // the browser's storage is full: keep the text, drop the photos
    draft.photos = [];
    localStorage.setItem(DRAFT + form.dataset.draft, JSON.stringify(draft));
  }
}

function restoreDraft(form, draft) {
  for (const el of form.elements) {
    if (!el.name || el.name === "csrf_token" || !(el.name in draft.fields)) continue;
    const value = draft.fields[el.name];
    if (el.type === "checkbox" || el.type === "radio") {
      el.checked = value.includes(el.value);
    } else if (el.type !== "file") {
      el.value = value;
    }
  }
  const input = form.querySelector("input[type=file]");
  if (input && draft.photos.length) {
    // Decoded here: fetching the data: URL would be a connection the Content-Security-Policy refuses.
    const files = draft.photos.map((p) => {
      const [head, body] = p.data.split(",");
      const bytes = Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
      return new File([bytes], p.name, {type: head.slice(5).split(";")[0]});
    });
    setFiles(input, files);
    photoNote(input, `${files.length} 张照片（草稿）`);
  }
  const details = form.closest("details");
  if (details) details.open = true;
  const note = document.createElement("p");
  note.className = "flash info draft-note";
  note.setAttribute("role", "status");
  note.textContent = "已恢复本机保存的未提交草稿，请核对后提交。";
  form.prepend(note);
}

document.addEventListener("DOMContentLoaded", () => {
  const recorded = new Set([...document.querySelectorAll("[data-recorded]")]
    .flatMap((el) => el.dataset.recorded.split(" ").filter(Boolean)));
  for (const key of Object.keys(localStorage)) {
    if (!key.startsWith(DRAFT)) continue;
    const draft = JSON.parse(localStorage.getItem(key));
    if (recorded.has(draft.fields.request_key)) localStorage.removeItem(key);
  }
  document.querySelectorAll("form[data-draft]").forEach((form) => {
    const stored = localStorage.getItem(DRAFT + form.dataset.draft);
    // A form that came back with the server's messages shows what was sent; the draft is that.
    if (stored && !form.querySelector(".has-error")) restoreDraft(form, JSON.parse(stored));
    form.addEventListener("input", () => saveDraft(form));
    form.addEventListener("change", (event) => { if (event.target.type !== "file") saveDraft(form); });
  });
});
