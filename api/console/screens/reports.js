// The reports screen: built by its own module into <section id="reports">.

export function createReports() {
  const section = document.getElementById("reports");
  return {
    async show() {
      if (!section.firstChild) {
        const heading = document.createElement("h2");
        heading.id = "reports-title";
        heading.textContent = "Reports";
        section.append(heading);
      }
    },
    hide() {},
  };
}
