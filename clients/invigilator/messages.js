// Every French text the board shows: statuses, incident categories, error codes, events.
// The hub sends a French `message` with each error; these texts win when we know the code,
// so the invigilator reads the same words whatever hub version answered.

export const STATUS_LABELS = {
  registered: "Inscrit",
  present: "Présent",
  in_progress: "En cours",
  disconnected: "Déconnecté",
  resume_authorized: "Reprise autorisée",
  finished: "Terminé",
  ended_by_invigilator: "Arrêté par le surveillant",
  ended_by_finalization: "Arrêté à la finalisation",
  absent: "Absent",
};

/** Order of the counters in the header (the life of a test, left to right). */
export const STATUS_ORDER = [
  "registered", "present", "in_progress", "disconnected", "resume_authorized",
  "finished", "ended_by_invigilator", "ended_by_finalization", "absent",
];

export const RUNNING = new Set(["in_progress", "disconnected", "resume_authorized"]);
export const FINAL = new Set(["finished", "ended_by_invigilator", "ended_by_finalization", "absent"]);

// docs/domain.md "Formats and constants": incident report categories.
export const CATEGORIES = {
  C1: "Modification du nom ou de la date de naissance",
  C2: "Modification du temps majoré",
  C4: "Problème de signature",
  C6: "Suspicion de fraude",
  C7: "Problème technique non bloquant",
  C8: "Problème non bloquant du candidat",
  E1: "L'image ne s'affiche pas",
  E2: "Le simulateur / l'application intégrée ne fonctionne pas",
  E3: "Le fichier ne s'ouvre pas",
  E4: "Le site est indisponible",
  E5: "Le site est bloqué",
  E8: "Temps majoré dépassé",
  E9: "Le logiciel ne fonctionne pas",
  E10: "Sortie involontaire de la page",
  E11: "Page d'erreur",
  E12: "Problème d'accessibilité",
};

export const QUESTION_CATEGORIES = Object.keys(CATEGORIES).filter((c) => c.startsWith("E"));

export const ACTION_LABELS = {
  confirm_presence: "confirmer la présence",
  cancel_presence: "annuler la présence",
  authorize_resume: "autoriser la reprise",
  end_test: "terminer le test",
  end_overdue: "terminer les tests hors délai",
  grant_time: "accorder du temps",
  validate_alert: "valider le signalement",
  dismiss_alert: "refuser le signalement",
  record_incident: "consigner l'incident",
  reveal_access_code: "afficher le code d'accès",
};

const ERRORS = {
  wrong_password: "Numéro de session ou mot de passe incorrect.",
  rate_limited: "Trop de tentatives. Réessayez dans quelques minutes.",
  not_logged_in: "La connexion au tableau a été perdue : reconnectez-vous.",
  already_logged_in: "Ce tableau est déjà connecté.",
  session_not_found: "Session introuvable : vérifiez le numéro.",
  candidate_not_found: "Candidat introuvable dans cette session.",
  not_eligible: "Ce candidat n'est pas certifiable : donnez-lui le code SOS de l'établissement.",
  conflict: "Un autre surveillant vient de modifier ce candidat. L'affichage a été mis à jour : vérifiez puis recommencez.",
  no_alert: "Ce candidat n'a plus de signalement en cours (déjà traité).",
  alert_pending: "Un signalement est en cours pour ce candidat : traitez-le d'abord.",
  invalid_category: "Choisissez une catégorie valide.",
  invalid_minutes: "Le temps accordé doit être compris entre 1 et 1440 minutes.",
  reason_required: "Indiquez la raison du temps accordé.",
  question_number_required: "Indiquez le numéro de la question (1 à 32).",
  invalid_description: "Décrivez l'incident (2000 caractères au plus).",
  resume_expired: "L'autorisation de reprise a expiré (15 minutes) : autorisez-la de nouveau.",
  invalid_field: "Une donnée envoyée est invalide.",
  invalid_input: "Les données envoyées sont invalides.",
  malformed: "Message illisible par le serveur.",
  unknown_type: "Action inconnue du serveur : rechargez la page.",
  internal_error: "Erreur interne du serveur. Réessayez.",
  store_unavailable: "Serveur momentanément indisponible : l'action n'a pas été faite, réessayez dans quelques secondes.",
  not_found: "Élément introuvable.",
  forbidden: "Vous n'avez pas le droit de faire cette action.",
  refused: "Cette action n'est pas possible maintenant.",
  timeout: "Le serveur n'a pas répondu à temps : vérifiez l'état du candidat avant de recommencer.",
  connection_lost: "Connexion perdue pendant l'action : vérifiez l'état du candidat avant de recommencer.",
  offline: "Pas de connexion au serveur : l'action n'a pas été envoyée.",
};

/** The French text for an error frame; `status` is the candidate's status as shown, if any. */
export function errorText(error, { action, status } = {}) {
  if (error.code === "transition_refused") {
    const what = ACTION_LABELS[action] || "faire cette action";
    const where = status ? ` : le candidat est « ${STATUS_LABELS[status] || status} »` : "";
    const of = /^[aeéèêiouh]/i.test(what) ? "d'" : "de ";
    return `Impossible ${of}${what}${where}.`;
  }
  if (error.code === "rate_limited" && error.retry_after) {
    return `Trop de tentatives. Réessayez dans ${Math.ceil(error.retry_after)} s.`;
  }
  return ERRORS[error.code] || error.message || "Une erreur est survenue.";
}

/** What the ARIA live region says when an event reaches the board (null: say nothing). */
export function eventText(event, name) {
  switch (event.type) {
    case "confirm_presence": return `${name} : présence confirmée.`;
    case "cancel_presence": return `${name} : présence annulée.`;
    case "start": return `${name} : test commencé.`;
    case "finish": return `${name} : test terminé.`;
    case "disconnect":
      if (event.reason === "replaced") return `${name} : test ouvert sur une autre page, reprise à autoriser.`;
      if (event.reason === "silent") return `${name} : plus de nouvelles du poste (déconnecté).`;
      return `${name} : page fermée (déconnecté).`;
    case "reconnect": return `${name} : reconnecté.`;
    case "authorize_resume": return `${name} : reprise autorisée (15 minutes).`;
    case "resume": return `${name} : test repris.`;
    case "end_by_invigilator": return `${name} : test arrêté par le surveillant.`;
    case "finalize": return `${name} : test arrêté à la finalisation.`;
    case "grant_time": return `${name} : ${event.minutes} min accordées.`;
    case "raise_alert": return `Signalement de ${name}, question ${event.question_number} : ${CATEGORIES[event.category] || event.category}.`;
    case "validate_alert": return `${name} : signalement validé, question remplacée.`;
    case "dismiss_alert": return `${name} : signalement refusé, même question.`;
    case "code_locked": return `${name} : trop de codes d'accès incorrects, bloqué 5 minutes.`;
    default: return null;
  }
}

export const CONNECTION_LABELS = {
  connecting: "Connexion…",
  online: "Connecté en direct",
  reconnecting: "Connexion perdue, reconnexion…",
  offline: "Hors ligne",
};
