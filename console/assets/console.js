// Vigil Security Center: the little script the console uses (served from the binary; the
// Content-Security-Policy allows no inline script). Copy buttons, and the detection test's wait.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button.copy[data-copy]")) {
    button.addEventListener("click", async () => {
      const field = document.getElementById(button.dataset.copy);
      if (!field) return;
      field.select();
      try {
        await navigator.clipboard.writeText(field.value);
        button.textContent = "Copied";
      } catch {
        button.textContent = "Press Ctrl+C";
      }
    });
  }

  const status = document.getElementById("detection-status");
  if (status) waitForDetection(status);
});

// Polls the server every 2 s until an EICAR alert with evidence since the page opened arrives,
// then turns the status green with a link to the alert. Text goes in through textContent only.
function waitForDetection(status) {
  const query = new URLSearchParams({ since: status.dataset.since });
  if (status.dataset.machine) query.set("machine", status.dataset.machine);
  const poll = async () => {
    try {
      const response = await fetch("/detection-test/status?" + query.toString(), { credentials: "same-origin" });
      if (response.ok) {
        const result = await response.json();
        if (result.received) {
          status.classList.remove("waiting");
          status.classList.add("received");
          const message = status.querySelector(".message");
          message.textContent = "Detection received from " + result.hostname + ". ";
          const link = document.createElement("a");
          link.href = "/alerts/" + encodeURIComponent(String(result.alert));
          link.id = "detection-alert";
          link.textContent = "Open the alert";
          message.appendChild(link);
          return;
        }
      }
    } catch {
      // The server is restarting or unreachable: keep waiting.
    }
    setTimeout(poll, 2000);
  };
  poll();
}
