// The login page: the token is checked against GET /session and kept in sessionStorage (never in a URL or a log);
// the role decides where the user goes.
import { api, applyLabels, remember, t, toggleLanguage } from "./common.js";

applyLabels();
document.getElementById("language").addEventListener("click", () => {
  toggleLanguage();
  applyLabels();
});

document.getElementById("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const field = document.getElementById("token");
  const secret = field.value.trim();
  const error = document.getElementById("error");
  error.textContent = "";
  try {
    const who = await api("/session", { secret });
    field.value = "";
    remember(secret, who);
    const may = new Set(who.permissions);
    if (who.agent_id) location.assign("agent.html");
    else if (may.has("wallboard.read")) location.assign("wallboard.html");
    else location.assign("reports.html");
  } catch (failure) {
    error.textContent = t("login_failed");
  }
});
