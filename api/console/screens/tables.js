// The tables screen: built by its own module into <section id="tables">.

export function createTables() {
  const section = document.getElementById("tables");
  return {
    async show() {
      if (!section.firstChild) {
        const heading = document.createElement("h2");
        heading.id = "tables-title";
        heading.textContent = "Tables";
        section.append(heading);
      }
    },
    hide() {},
  };
}
