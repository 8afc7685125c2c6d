// French text for people: every error code a candidate can receive, the end statuses,
// and the live-alert categories (docs/domain.md "Formats and constants", E1-E12).

/** What the candidate should read and do, per stable error code of the protocol. */
export const ERRORS = {
  // Joining (docs/domain.md flow, step 7)
  identity_not_found:
    "Aucun candidat ne correspond. Vérifiez le numéro de session, votre nom, votre prénom et votre date de naissance : écrivez-les comme sur la feuille d'émargement.",
  identity_ambiguous:
    "Plusieurs candidats correspondent à ces informations. Levez la main : votre surveillant va vous aider.",
  session_not_found: "Ce numéro de session n'existe pas. Vérifiez-le sur le tableau ou demandez-le à votre surveillant.",
  candidate_not_found: "Vous n'êtes pas inscrit à cette session. Levez la main : votre surveillant va vous aider.",
  session_closed: "Cette session est close : on ne peut plus la rejoindre. Levez la main et appelez votre surveillant.",
  not_eligible:
    "Vous n'êtes pas certifiable pour cette session. Votre surveillant va vous donner un autre code pour passer un parcours d'entraînement.",
  already_joined: "Vous avez déjà rejoint la session. Patientez, la page va se mettre à jour.",
  not_joined: "La connexion a été réinitialisée. Patientez, la page se reconnecte.",
  rate_limited: "Trop de tentatives. Attendez {wait} avant de réessayer, ou appelez votre surveillant.",
  // Starting (step 8)
  wrong_access_code: "Code d'accès incorrect. Vérifiez le code donné par votre surveillant (4 lettres et 2 chiffres).",
  code_locked: "Trop de codes incorrects. Attendez {wait} ou appelez votre surveillant.",
  entry_window_closed: "Il n'est plus possible de commencer le test : la session a commencé il y a plus de 24 heures. Appelez votre surveillant.",
  // During the test
  answer_invalid: "Cette réponse n'est pas valide pour cette question. Vérifiez votre choix puis validez à nouveau.",
  out_of_order: "Cette réponse ne correspond plus à la question affichée. La page va se mettre à jour.",
  question_not_current: "Cette question n'est plus la question en cours. La page va se mettre à jour.",
  no_current_question: "Aucune question en cours. Appelez votre surveillant.",
  test_state_refused: "Cette action n'est pas possible à ce stade du test. Appelez votre surveillant si cela continue.",
  alert_pending: "Un signalement est en cours : attendez la décision de votre surveillant.",
  no_alert: "Aucun signalement en cours.",
  invalid_category: "Choisissez le type de problème dans la liste.",
  // Resuming (step 10)
  resume_expired: "L'autorisation de reprise a expiré (15 minutes). Levez la main : votre surveillant doit l'autoriser à nouveau.",
  session_replaced: "Votre test a été ouvert sur une autre page ou un autre ordinateur. Fermez cette page et levez la main.",
  // Generic
  transition_refused: "Cette action n'est pas possible maintenant. Levez la main si cela continue.",
  conflict: "Votre surveillant vient de modifier votre test. La page va se mettre à jour.",
  refused: "Cette action n'est pas possible maintenant. Levez la main si cela continue.",
  malformed: "La page a envoyé un message illisible. Rechargez la page et levez la main.",
  unknown_type: "La page n'est pas à jour. Levez la main : votre surveillant va vous aider.",
  invalid_field: "Une information est manquante ou invalide. Vérifiez les champs.",
  invalid_input: "Une information est invalide. Vérifiez les champs.",
  not_authenticated: "Vous n'êtes pas connecté à la session. Patientez, la page se reconnecte.",
  forbidden: "Cette action n'est pas autorisée. Levez la main si cela continue.",
  not_found: "Élément introuvable. Levez la main si cela continue.",
  internal_error: "Le serveur a rencontré une erreur. Réessayez ; si cela continue, levez la main.",
  store_unavailable: "Le serveur est momentanément indisponible : la page réessaie toute seule, ne fermez pas cet onglet.",
  error: "Une erreur est survenue. Réessayez ; si cela continue, levez la main.",
};

/** Field names of ``invalid_field`` errors, in French. */
const FIELDS = {
  session: "le numéro de session",
  last_name: "le nom",
  first_name: "le prénom",
  birthdate: "la date de naissance",
  access_code: "le code d'accès",
  answer: "la réponse",
  category: "le type de problème",
};

function duration(seconds) {
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 60) return `${s} seconde${s > 1 ? "s" : ""}`;
  const m = Math.ceil(s / 60);
  return `${m} minute${m > 1 ? "s" : ""}`;
}

/** The French text for an error frame ({code, message, retry_after?}). */
export function errorText(frame) {
  const code = frame && frame.code;
  if (code === "invalid_field" && frame.message) {
    const match = /«\s*(\w+)\s*»/.exec(frame.message);
    if (match && FIELDS[match[1]]) return `Vérifiez ${FIELDS[match[1]]} : il est manquant ou invalide.`;
  }
  const text = ERRORS[code] || (frame && frame.message) || ERRORS.error;
  return text.replace("{wait}", duration(frame && frame.retry_after ? frame.retry_after : 60));
}

/** End-of-test statuses (test_ended.status). */
export const ENDED = {
  finished: {
    title: "Votre test est terminé",
    text: "Vous avez répondu à toutes les questions. Toutes vos réponses sont enregistrées. Merci !",
  },
  ended_by_invigilator: {
    title: "Votre surveillant a terminé votre test",
    text: "Votre test est terminé. Les réponses que vous avez validées sont enregistrées.",
  },
  ended_by_finalization: {
    title: "La session est terminée",
    text: "La session a été clôturée : votre test est terminé. Les réponses que vous avez validées sont enregistrées.",
  },
};

/** Live-alert categories a candidate may raise about the current question (E1-E12).
 * E8 (extra time exceeded) is left out: it is the invigilator's finding, not a problem a
 * candidate sees on a question. */
export const ALERT_CATEGORIES = [
  ["E1", "L'image ne s'affiche pas"],
  ["E2", "Le simulateur ou l'application intégrée ne fonctionne pas"],
  ["E3", "Le fichier ne s'ouvre pas"],
  ["E4", "Le site est indisponible"],
  ["E5", "Le site est bloqué"],
  ["E9", "Le logiciel ne fonctionne pas"],
  ["E10", "Je suis sorti de la page sans le vouloir"],
  ["E11", "Une page d'erreur s'affiche"],
  ["E12", "Problème d'accessibilité (je ne peux pas lire ou utiliser la question)"],
];

export const TYPE_HINTS = {
  single: "Choisissez une seule réponse.",
  multiple: "Choisissez une ou plusieurs réponses.",
  short: "Écrivez votre réponse.",
};

