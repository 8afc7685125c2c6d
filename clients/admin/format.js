// How dates, numbers and codes read in French. Times are shown in the session's own time
// zone (docs/domain.md: stored in UTC, Europe/Paris by default, overseas schools have theirs).

const DEFAULT_ZONE = "Europe/Paris";

export const FIELD_LABELS = {
  // sessions
  date: "Date",
  time: "Heure de début",
  starts_at: "Date et heure",
  room: "Salle",
  address: "Adresse",
  examiner: "Examinateur",
  timezone: "Fuseau horaire",
  // candidates (JSON fields and CSV columns)
  last_name: "Nom",
  first_name: "Prénom",
  birthdate: "Date de naissance",
  extra_time_percent: "Temps majoré",
  external_id: "Identifiant externe",
  email: "E-mail",
  eligible: "Certifiable",
  candidates: "Liste",
};

export const SESSION_STATUS = {
  created: "Planifiée",
  finalized: "Finalisée",
  in_review: "En cours d'examen par le jury",
  published: "Résultats publiés",
};

export function fieldLabel(field) {
  return FIELD_LABELS[field] || field || "Fichier";
}

/** "mardi 12 mai 2026 à 09:00", in the session's zone; the zone named when not Paris. */
export function sessionWhen(session, { long = true } = {}) {
  const zone = session.timezone || DEFAULT_ZONE;
  const moment = new Date(session.starts_at);
  let text;
  try {
    const day = new Intl.DateTimeFormat("fr-FR", {
      timeZone: zone, weekday: long ? "long" : undefined, day: "numeric",
      month: long ? "long" : "2-digit", year: "numeric",
    }).format(moment);
    const hour = new Intl.DateTimeFormat("fr-FR", {
      timeZone: zone, hour: "2-digit", minute: "2-digit",
    }).format(moment);
    text = `${day} à ${hour}`;
  } catch {
    text = session.local_starts_at || session.starts_at; // unknown zone in this browser
  }
  return zone === DEFAULT_ZONE ? text : `${text} (heure locale, ${zoneName(zone)})`;
}

export function zoneName(zone) {
  const city = zone.split("/").pop().replaceAll("_", " ");
  return zone === DEFAULT_ZONE ? "heure de Paris" : `fuseau ${city}`;
}

/** "2010-03-14" -> "14/03/2010", without going through Date (no time-zone shift). */
export function frenchDate(iso) {
  const [year, month, day] = String(iso).split("-");
  return day && month && year ? `${day}/${month}/${year}` : String(iso);
}

export function percent(value) {
  if (!value) return "—";
  return `${String(value).replace(".", ",")}\u00a0%`;
}

export function eligibility(value) {
  if (value === true) return { text: "Oui", kind: "yes" };
  if (value === false) return { text: "Non", kind: "no" };
  return { text: "Inconnu", kind: "unknown" };
}

export function candidateCount(count) {
  return count === 1 ? "1 candidat" : `${count} candidats`;
}

/** At most 20 candidates per invigilator (docs/domain.md flow, step 4). */
export function staffing(count) {
  if (count === 0) return "Aucun candidat inscrit : au moins 1 surveillant sera nécessaire.";
  const needed = Math.ceil(count / 20);
  const who = needed === 1 ? "1 surveillant" : `${needed} surveillants`;
  return `${candidateCount(count)} : prévoir au moins ${who} (20 candidats au plus par surveillant).`;
}
