// The notifications screen: built by its own module into <section id="notifications">.

export function createNotifications() {
  const section = document.getElementById("notifications");
  return {
    async show() {
      if (!section.firstChild) {
        const heading = document.createElement("h2");
        heading.id = "notifications-title";
        heading.textContent = "Notifications";
        section.append(heading);
      }
    },
    hide() {},
  };
}
