// The hours screen: built by its own module into <section id="hours">.

export function createHours() {
  const section = document.getElementById("hours");
  return {
    async show() {
      if (!section.firstChild) {
        const heading = document.createElement("h2");
        heading.id = "hours-title";
        heading.textContent = "Hours";
        section.append(heading);
      }
    },
    hide() {},
  };
}
