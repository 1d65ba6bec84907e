"""What a client found wrong, in each language operators read (pt-BR first).

A client raises errors and reports problems by a code and its values (`blocks.errors`); these
are their words, `problem.<code>` -> (pt-BR, en), filled in with `str.format`. The operators'
full catalogue (`contract_sync.texts`) includes them.
"""

from __future__ import annotations

PROBLEMS: dict[str, tuple[str, str]] = {
    # what a read found wrong without failing
    "problem.magnus_username_not_found": (
        "usuário {username!r} não encontrado no MagnusBilling",
        "username {username!r} not found in MagnusBilling",
    ),
    "problem.magnus_list_changed": (
        "a lista de usuários mudou durante a leitura: {read} de {total} lidos",
        "the user list changed while it was read: {read} of {total} read",
    ),
    "problem.magnus_row_not_object": (
        "a linha {position} de uma página não é um objeto",
        "row {position} of a page is not an object",
    ),
    "problem.magnus_row_without_id": (
        "a linha {position} de uma página não tem id válido",
        "row {position} of a page has no valid id",
    ),
    "problem.magnus_user_twice": (
        "o usuário id {user_id} veio duas vezes com dados diferentes; deixado de fora",
        "user id {user_id} came back twice with different data; left out",
    ),
    "problem.ixc_record_without_id": (
        "um registro de contrato sem id numérico foi ignorado",
        "a contract record without a numeric id was ignored",
    ),
    "problem.ixc_two_records": (
        "o IXC devolveu dois registros diferentes para este id",
        "IXC returned two different records for this id",
    ),
    "problem.ixc_records_without_id": (
        "{count} registro(s) sem id válido na resposta",
        "{count} records without a valid id in the answer",
    ),
    "problem.ixc_error": ("{why}", "{why}"),
    "problem.ixc_read_failed": (
        "leitura do IXC falhou: {why} ({count} contratos)",
        "IXC read failed: {why} ({count} contracts)",
    ),
    # a client's error (blocks/errors.py: its code and values), said to operators
    "problem.api_text": ("{system}: {text}", "{system}: {text}"),
    "problem.unexpected": ("erro inesperado ({kind})", "unexpected error ({kind})"),
    "problem.api_timeout": (
        "{system}: sem resposta a tempo ({kind})",
        "{system}: no answer in time ({kind})",
    ),
    "problem.api_could_not_connect": (
        "{system}: não foi possível conectar ({kind})",
        "{system}: could not connect ({kind})",
    ),
    "problem.api_connection_failed": (
        "{system}: falha na conexão ({kind})",
        "{system}: connection failed ({kind})",
    ),
    "problem.api_rate_limited": (
        "{system}: limite de requisições (HTTP 429, esperar {wait} s)",
        "{system}: rate limited (HTTP 429, retry after {wait} s)",
    ),
    "problem.api_wait_too_long": (
        "{system}: limite de requisições, e pediu para esperar {asked} s, mais que os "
        "{ceiling} s que este cliente espera; desistimos",
        "{system}: rate limited and asked to wait {asked} s, more than the {ceiling} s this "
        "client waits; giving up",
    ),
    "problem.api_server_error": (
        "{system}: HTTP {status}: {detail}",
        "{system}: HTTP {status}: {detail}",
    ),
    "problem.api_http_error": (
        "{system}: HTTP {status}: {detail}",
        "{system}: HTTP {status}: {detail}",
    ),
    "problem.api_not_utf8": (
        "{system}: a resposta não é texto UTF-8 (HTTP {status}, {size} bytes)",
        "{system}: answer is not UTF-8 text (HTTP {status}, {size} bytes)",
    ),
    "problem.api_broken_json": (
        "{system}: JSON cortado ou inválido ({reason} no caractere {position} de {size}) "
        "(HTTP {status})",
        "{system}: broken JSON ({reason} at char {position} of {size}) (HTTP {status})",
    ),
    "problem.api_empty_answer": (
        "{system}: resposta vazia (HTTP {status})",
        "{system}: empty answer (HTTP {status})",
    ),
    "problem.api_not_json": (
        "{system}: a resposta não é JSON: {excerpt} (HTTP {status})",
        "{system}: not JSON: {excerpt} (HTTP {status})",
    ),
    "problem.api_key_refused": (
        "{system}: chave de API ou assinatura recusada (o servidor disse {said})",
        "{system}: API key or signature refused (server said {said})",
    ),
    "problem.api_ip_not_allowed": (
        "{system}: o IP desta máquina não está liberado para a chave de API (o servidor disse "
        "{said})",
        "{system}: this machine's IP is not allowed for the API key (server said {said})",
    ),
    "problem.api_no_key": (
        "{system}: nenhuma chave de API enviada (o servidor disse {said})",
        "{system}: no API key sent (server said {said})",
    ),
    "problem.api_key_user_invalid": (
        "{system}: o usuário da chave de API não é válido (o servidor disse {said})",
        "{system}: the API key's user is not valid (server said {said})",
    ),
    "problem.api_key_lacks_permission": (
        "{system}: a chave de API não tem permissão para esta ação (o servidor disse {said})",
        "{system}: the API key lacks the permission for this action (server said {said})",
    ),
    "problem.api_one_record_per_save": (
        "{system}: um registro por gravação (o servidor disse {said})",
        "{system}: only one record per save (server said {said})",
    ),
    "problem.api_key_cannot_read": (
        "{system}: HTTP 401: a chave de API não pode ler usuários",
        "{system}: HTTP 401: the API key may not read users",
    ),
    "problem.api_record_not_found": (
        "{system}: registro não encontrado",
        "{system}: record not found",
    ),
    "problem.api_rejected": ("{system}: recusado: {detail}", "{system}: rejected: {detail}"),
    "problem.api_token_refused": (
        "{system}: token recusado (HTTP 401): {detail}",
        "{system}: token refused (HTTP 401): {detail}",
    ),
    "problem.api_forbidden": (
        "{system}: acesso negado (HTTP 403): {detail}",
        "{system}: HTTP 403: {detail}",
    ),
    "problem.api_check_base_url": (
        "{system}: HTTP 404 (confira a URL base): {detail}",
        "{system}: HTTP 404 (check the base URL): {detail}",
    ),
    "problem.api_ixc_said_error": (
        "{system}: o IXC respondeu um erro: {detail}",
        "{system}: IXC answered an error: {detail}",
    ),
    "problem.api_listing_without_end": (
        "{system}: a lista de usuários não termina (mais de {pages} páginas acima do id {after})",
        "{system}: the user listing does not end (more than {pages} pages above id {after})",
    ),
    "problem.api_save_without_user": (
        "{system}: a gravação deu certo mas não devolveu o usuário gravado",
        "{system}: save succeeded but did not return the saved user",
    ),
    "problem.api_save_user_without_id": (
        "{system}: a gravação devolveu um usuário sem id válido",
        "{system}: save answered a user without a valid id",
    ),
    "problem.api_save_answered_other": (
        "{system}: a gravação do usuário {user_id} devolveu id={id} active={active}",
        "{system}: save of user {user_id} answered id={id} active={active}",
    ),
    "problem.api_not_an_object": (
        "{system}: esperava um objeto JSON, veio {kind}",
        "{system}: expected a JSON object, got {kind}",
    ),
    "problem.api_unexpected_keys": (
        "{system}: resposta inesperada com as chaves {keys}",
        "{system}: unexpected answer with keys {keys}",
    ),
    "problem.api_not_a_count": (
        "{system}: '{name}' ausente ou não é uma contagem: {value}",
        "{system}: '{name}' is missing or not a count: {value}",
    ),
    "problem.api_short_listing": (
        "{system}: listou {listed} contratos mas enviou {sent}",
        "{system}: listed {listed} contracts but sent {sent}",
    ),
    "problem.api_total_not_a_number": (
        "{system}: 'total' ausente ou não é um número: {value}",
        "{system}: 'total' missing or not a number: {value}",
    ),
    "problem.api_records_not_a_list": (
        "{system}: 'registros' não é uma lista",
        "{system}: 'registros' is not a list",
    ),
    "problem.api_not_discord_answer": (
        "{system}: HTTP {status} mas não é a resposta do Discord: {excerpt}",
        "{system}: HTTP {status} but not Discord's answer: {excerpt}",
    ),
    "problem.api_webhook_refused": (
        "{system}: webhook recusado (HTTP {status})",
        "{system}: webhook refused (HTTP {status})",
    ),
    "problem.api_webhook_not_found": (
        "{system}: o webhook não existe (HTTP 404)",
        "{system}: webhook does not exist (HTTP 404)",
    ),
    "problem.api_message_refused": (
        "{system}: mensagem recusada: {detail}",
        "{system}: message refused: {detail}",
    ),
}
