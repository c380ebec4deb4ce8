// The search screen: built by its own module into <section id="search">.

export function createSearch() {
  const section = document.getElementById("search");
  return {
    async show() {
      if (!section.firstChild) {
        const heading = document.createElement("h2");
        heading.id = "search-title";
        heading.textContent = "Search";
        section.append(heading);
      }
    },
    hide() {},
  };
}
