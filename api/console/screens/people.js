// The people screen: built by its own module into <section id="people">.

export function createPeople() {
  const section = document.getElementById("people");
  return {
    async show() {
      if (!section.firstChild) {
        const heading = document.createElement("h2");
        heading.id = "people-title";
        heading.textContent = "People";
        section.append(heading);
      }
    },
    hide() {},
  };
}
