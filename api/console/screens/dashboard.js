// The dashboard screen: built by its own module into <section id="dashboard">.

export function createDashboard() {
  const section = document.getElementById("dashboard");
  return {
    async show() {
      if (!section.firstChild) {
        const heading = document.createElement("h2");
        heading.id = "dashboard-title";
        heading.textContent = "Dashboard";
        section.append(heading);
      }
    },
    hide() {},
  };
}
