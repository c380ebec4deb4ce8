// The closures screen: built by its own module into <section id="closures">.

export function createClosures() {
  const section = document.getElementById("closures");
  return {
    async show() {
      if (!section.firstChild) {
        const heading = document.createElement("h2");
        heading.id = "closures-title";
        heading.textContent = "Closures";
        section.append(heading);
      }
    },
    hide() {},
  };
}
