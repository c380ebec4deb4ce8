// The timeline screen: built by its own module into <section id="timeline">.

export function createTimeline() {
  const section = document.getElementById("timeline");
  return {
    async show() {
      if (!section.firstChild) {
        const heading = document.createElement("h2");
        heading.id = "timeline-title";
        heading.textContent = "Timeline";
        section.append(heading);
      }
    },
    hide() {},
  };
}
