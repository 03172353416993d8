// The web client's texts in en and zh-CN. The API writes its own problem
// titles and details in the language asked for (Accept-Language).

const texts = {
  en: {
    skip: 'Skip to content', brand: 'Cloud console', language: 'Language', signOut: 'Sign out',
    'nav.account': 'Account and security', 'nav.mailbox': 'Local mailbox',
    'signIn.title': 'Sign in', 'signIn.intro': 'Local stack: pick a seeded account to sign in as. The local identity provider issues its token.',
    'signIn.client': 'Client', 'signIn.none': 'No account is seeded: run scripts/dev seed FILE.',
    'signIn.deleted': 'deleted', 'signIn.as': 'Signed in as {id}',
    'pool.intro': 'Sign in with your user name and password (the user pool of this stack).',
    'pool.username': 'User name', 'pool.password': 'Password', 'pool.email': 'Email', 'pool.code': 'Confirmation code',
    'pool.codeHint': 'The code the pool mails you; the local pool (moto) takes any.',
    'pool.signIn': 'Sign in', 'pool.signUp': 'Create an account', 'pool.refused': 'Refused: {message}',
    'account.title': 'Account and security', 'account.id': 'Account ID', 'account.role': 'Role',
    'account.enterprise': 'Enterprise', 'account.email': 'Email', 'account.none': 'none',
    'account.delete': 'Delete account', 'account.deleteHint': 'Deletes the account and its data for good.',
    'account.handover': 'Hand over an account', 'account.handoverHint': 'Hand an account over to a designated person (an employee who was transferred or resigned).',
    'role.default_admin': 'default administrator', 'role.admin': 'administrator', 'role.member': 'member', 'role.individual': 'individual',
    'delete.title': 'Delete account', 'delete.prereq': 'Deletion prerequisites', 'delete.checkAgain': 'Check again',
    'delete.deletable': 'Nothing blocks the deletion.', 'delete.blocked': 'Clear these first:',
    'delete.warning': 'A deleted account cannot be recovered. Its user name, email and phone become free to register again.',
    'delete.verify': 'Verify it is you', 'delete.ok': 'OK', 'delete.done': 'Account {id} was deleted (receipt {receipt}). You are signed out.',
    'delete.scheduled': 'The deletion is scheduled: the account is locked now and purged at {at}.',
    'delete.deleting': 'The account is being deleted; it is no longer usable.',
    'delete.cancelTitle': 'Cancel the deletion', 'delete.cancel': 'Cancel deletion',
    'delete.cancelled': 'The deletion was cancelled: the account is active again.',
    'delete.backupAdvised': 'Advised, not required: download a copy of your data (above) before you delete the account.',
    'export.title': 'Download your data', 'export.ok': 'Prepare my copy',
    'export.intro': 'Before you go, take a copy of your data: your profile, contacts, holds, credentials (no secrets) and everything else the account holds, as one JSON file. The link is also mailed to you.',
    'export.preparing': 'Your copy is being prepared…', 'export.ready': 'Your copy is ready. The link works until {at}.',
    'export.download': 'Download your data', 'export.expired': 'Your last copy\'s link has expired: prepare a new one.',
    'deleted.title': 'Account deleted or scheduled for deletion', 'deleted.cancelTitle': 'Restore the account',
    'deleted.intro': 'Account {id} was deleted, or its deletion is scheduled. While the deletion is in its grace period it can still be cancelled: a code goes to the account\'s email.',
    'deleted.cancel': 'Cancel the scheduled deletion', 'deleted.back': 'Back to sign-in',
    'deleted.inGrace': 'The deletion is in its grace period: enter the code to cancel it.',
    'deleted.gone': 'Account {id} is deleted for good and cannot be restored. You are signed out.',
    'dismiss.title': 'Dismiss the enterprise', 'dismiss.intro': 'You are the default administrator of {ent}. Dismiss it first: its other members become individual accounts and are mailed.',
    'dismiss.ok': 'Dismiss enterprise', 'dismiss.done': 'Enterprise {ent} was dismissed; {n} members released.',
    'dismiss.pending': 'Enterprise {ent} is being dismissed in the background.',
    'code.send': 'Send Code', 'code.resendIn': 'Resend in {s} s', 'code.sent': 'A code was sent to {to}; it is valid for {min} minutes.',
    'code.label': 'Verification code', 'code.hint': '6 digits, from the mail', 'code.attemptsLeft': 'Attempts left: {n}',
    'code.required': 'Enter the 6-digit code.',
    'handover.title': 'Hand over an account', 'handover.account': 'Account to hand over (empty: your own)',
    'handover.email': 'Designated person\'s email', 'handover.phone': 'Designated person\'s phone (optional)',
    'handover.name': 'Designated person\'s name (optional)', 'handover.iam': 'IAM users of the account',
    'handover.iam.reset_password': 'reset their passwords', 'handover.iam.delete': 'delete them',
    'handover.start': 'Send the confirmation code to the designated person',
    'handover.awaiting': 'A confirmation code was sent to {to}. Ask the designated person for it.',
    'handover.confirmTitle': 'Confirm the handover', 'handover.confirm': 'Confirm handover',
    'handover.done': 'Account {id} was handed over.', 'handover.running': 'The handover of {id} is being finished in the background.',
    'handover.step': 'Step', 'handover.item': 'Item', 'handover.result': 'Done', 'handover.count': 'Count',
    'handover.emailRequired': 'Enter the designated person\'s email.',
    'mailbox.title': 'Local mailbox', 'mailbox.intro': 'The mail local SES (moto) accepted, newest first.',
    'mailbox.refresh': 'Refresh', 'mailbox.empty': 'No mail yet.', 'mailbox.to': 'To', 'mailbox.subject': 'Subject', 'mailbox.body': 'Message',
    'error.unauthorized': 'Your sign-in is no longer valid: sign in again.',
    'error.network': 'The local API did not answer.', 'error.gateway': 'The API answered {status}: {message}',
    'blocker.enterprise_not_dismissed': 'Enterprise not dismissed', 'blocker.email_not_bound': 'No email bound',
    'blocker.desktop_client_required': 'Use the desktop console', 'blocker.handover_pending': 'Handover pending',
    'blocker.active_resources': 'Resources still running', 'blocker.account_balance': 'Balance left', 'blocker.arrears': 'Arrears',
    'blocker.unfulfilled_contract': 'Contract not fulfilled', 'blocker.account_group': 'Account group', 'blocker.agency': 'Agency', 'blocker.partnership': 'Partnership',
  },
  'zh-CN': {
    skip: '跳到正文', brand: '云控制台', language: '语言', signOut: '退出登录',
    'nav.account': '账号与安全', 'nav.mailbox': '本地邮箱',
    'signIn.title': '登录', 'signIn.intro': '本地环境：选择一个已导入的账号登录，由本地身份提供方签发令牌。',
    'signIn.client': '客户端', 'signIn.none': '尚未导入账号：请运行 scripts/dev seed FILE。',
    'signIn.deleted': '已注销', 'signIn.as': '当前账号：{id}',
    'pool.intro': '使用用户名和密码登录（本环境的用户池）。',
    'pool.username': '用户名', 'pool.password': '密码', 'pool.email': '邮箱', 'pool.code': '确认码',
    'pool.codeHint': '用户池发送到邮箱的确认码；本地用户池（moto）接受任意确认码。',
    'pool.signIn': '登录', 'pool.signUp': '注册账号', 'pool.refused': '被拒绝：{message}',
    'account.title': '账号与安全', 'account.id': '账号 ID', 'account.role': '角色',
    'account.enterprise': '企业', 'account.email': '邮箱', 'account.none': '无',
    'account.delete': '注销账号', 'account.deleteHint': '永久删除账号及其数据。',
    'account.handover': '交接账号', 'account.handoverHint': '将账号交接给指定人员（调岗或离职的员工）。',
    'role.default_admin': '默认管理员', 'role.admin': '管理员', 'role.member': '成员', 'role.individual': '个人',
    'delete.title': '注销账号', 'delete.prereq': '注销条件', 'delete.checkAgain': '重新检查',
    'delete.deletable': '没有阻止注销的事项。', 'delete.blocked': '请先处理以下事项：',
    'delete.warning': '账号注销后无法恢复。其用户名、邮箱和手机号可以再次用于注册。',
    'delete.verify': '验证身份', 'delete.ok': '确定', 'delete.done': '账号 {id} 已注销（回执 {receipt}），您已退出登录。',
    'delete.scheduled': '已安排注销：账号现已锁定，将于 {at} 彻底删除。',
    'delete.deleting': '账号正在注销，已无法使用。',
    'delete.cancelTitle': '撤销注销', 'delete.cancel': '撤销注销',
    'delete.cancelled': '注销已撤销：账号已恢复正常。',
    'delete.backupAdvised': '建议（非必须）：注销前先下载您的数据副本（见上方）。',
    'export.title': '下载您的数据', 'export.ok': '生成数据副本',
    'export.intro': '注销前请备份数据：您的资料、联系方式、限制项、凭证（不含密钥）及账号中的其他数据，打包为一个 JSON 文件。下载链接也会发送到您的邮箱。',
    'export.preparing': '正在生成您的数据副本…', 'export.ready': '数据副本已准备好，链接在 {at} 之前有效。',
    'export.download': '下载您的数据', 'export.expired': '上一份副本的链接已过期：请重新生成。',
    'deleted.title': '账号已注销或已安排注销', 'deleted.cancelTitle': '恢复账号',
    'deleted.intro': '账号 {id} 已注销，或已安排注销。注销仍在宽限期内时可以撤销：验证码将发送至账号绑定的邮箱。',
    'deleted.cancel': '撤销已安排的注销', 'deleted.back': '返回登录',
    'deleted.inGrace': '注销仍在宽限期内：输入验证码即可撤销。',
    'deleted.gone': '账号 {id} 已永久注销，无法恢复，您已退出登录。',
    'dismiss.title': '解散企业', 'dismiss.intro': '您是企业 {ent} 的默认管理员，请先解散企业：其他成员将变为个人账号并收到邮件通知。',
    'dismiss.ok': '解散企业', 'dismiss.done': '企业 {ent} 已解散，{n} 名成员已转为个人账号。',
    'dismiss.pending': '企业 {ent} 正在后台解散。',
    'code.send': '获取验证码', 'code.resendIn': '{s} 秒后可重新获取', 'code.sent': '验证码已发送至 {to}，{min} 分钟内有效。',
    'code.label': '验证码', 'code.hint': '邮件中的 6 位数字', 'code.attemptsLeft': '剩余次数：{n}',
    'code.required': '请输入 6 位验证码。',
    'handover.title': '交接账号', 'handover.account': '要交接的账号（留空：您自己的账号）',
    'handover.email': '指定人员的邮箱', 'handover.phone': '指定人员的手机号（可选）',
    'handover.name': '指定人员的姓名（可选）', 'handover.iam': '账号下的 IAM 用户',
    'handover.iam.reset_password': '重置其密码', 'handover.iam.delete': '删除',
    'handover.start': '向指定人员发送确认验证码',
    'handover.awaiting': '确认验证码已发送至 {to}，请向指定人员索取。',
    'handover.confirmTitle': '确认交接', 'handover.confirm': '确认交接',
    'handover.done': '账号 {id} 已完成交接。', 'handover.running': '账号 {id} 的交接正在后台完成。',
    'handover.step': '步骤', 'handover.item': '事项', 'handover.result': '结果', 'handover.count': '数量',
    'handover.emailRequired': '请输入指定人员的邮箱。',
    'mailbox.title': '本地邮箱', 'mailbox.intro': '本地 SES（moto）收到的邮件，最新的在前。',
    'mailbox.refresh': '刷新', 'mailbox.empty': '还没有邮件。', 'mailbox.to': '收件人', 'mailbox.subject': '主题', 'mailbox.body': '内容',
    'error.unauthorized': '登录已失效，请重新登录。',
    'error.network': '本地接口没有响应。', 'error.gateway': '接口返回 {status}：{message}',
    'blocker.enterprise_not_dismissed': '企业未解散', 'blocker.email_not_bound': '未绑定邮箱',
    'blocker.desktop_client_required': '请使用电脑端控制台', 'blocker.handover_pending': '有待完成的交接',
    'blocker.active_resources': '仍有运行中的资源', 'blocker.account_balance': '账户仍有余额', 'blocker.arrears': '存在欠费',
    'blocker.unfulfilled_contract': '合同未履行完毕', 'blocker.account_group': '账号组', 'blocker.agency': '代理关系', 'blocker.partnership': '合作伙伴关系',
  },
};

// Chinese detail and action of the blockers this bundle writes itself; a
// service's own hold detail is shown as the service wrote it.
const blockerTexts = {
  enterprise_not_dismissed: ['您是仍处于活跃状态的企业的默认管理员。', '先解散企业，再注销账号。'],
  email_not_bound: ['账号未绑定邮箱，无法发送验证码。', '先在管理平台绑定邮箱，再注销账号。'],
  desktop_client_required: ['默认管理员不能在移动端注销账号或解散企业。', '请在电脑端控制台操作。'],
  handover_pending: ['管理员发起的账号交接正在等待确认。', '等待交接完成或由管理员取消。'],
  active_resources: [null, '释放或删除账号下所有云产品和资源。'],
  account_balance: [null, '提现或用完账号中的余额。'],
  arrears: [null, '结清欠费。'],
  unfulfilled_contract: [null, '履行或终止未完成的合同。'],
  account_group: [null, '退出或解散账号组。'],
  agency: [null, '解除账号的代理关系。'],
  partnership: [null, '终止与账号关联的合作关系。'],
};

export const LANGUAGES = ['en', 'zh-CN'];

export function language() {
  const saved = localStorage.getItem('language');
  if (LANGUAGES.includes(saved)) return saved;
  return (navigator.language || '').toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

export function setLanguage(lang) {
  localStorage.setItem('language', LANGUAGES.includes(lang) ? lang : 'en');
}

export function t(key, values = {}) {
  const text = texts[language()][key] ?? texts.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, k) => String(values[k] ?? ''));
}

export function blockerText(blocker) {
  const zh = language() === 'zh-CN' && blockerTexts[blocker.kind];
  return {
    title: texts[language()][`blocker.${blocker.kind}`] ?? blocker.kind,
    detail: zh && zh[0] ? zh[0] : blocker.detail,
    action: zh ? zh[1] : blocker.action,
  };
}

// Static texts of the page (elements with data-t).
export function translatePage(root = document) {
  document.documentElement.lang = language();
  for (const el of root.querySelectorAll('[data-t]')) el.textContent = t(el.dataset.t);
}
