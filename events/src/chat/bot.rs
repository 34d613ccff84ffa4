//! Chatbots: the chatbot webhooks of the list.

// @@ bot @@
