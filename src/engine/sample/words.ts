/** The word lists sample names and texts are made of. */

export const DEPARTMENTS = [
  'Marketing',
  'Creative Services',
  'Product Design',
  'Engineering',
  'Finance',
  'Legal',
  'Human Resources',
  'Sales',
  'Customer Success',
  'IT Operations',
  'Procurement',
  'Facilities',
  'Brand Studio',
  'Analytics',
  'Content',
  'Events',
  'Partnerships',
  'Compliance',
  'Research',
  'Training',
  'EMEA Delivery',
  'APAC Delivery',
];
export const ROLES = [
  'Project Manager',
  'Designer',
  'Copywriter',
  'Developer',
  'QA Analyst',
  'Account Manager',
  'Art Director',
  'Producer',
  'Business Analyst',
  'Solution Architect',
  'Data Analyst',
  'Scrum Master',
  'Marketing Specialist',
  'Legal Reviewer',
  'Finance Controller',
  'Content Strategist',
  'UX Researcher',
  'Product Owner',
  'Support Engineer',
  'Trainer',
  'Video Editor',
  'Translator',
];
export const TEAMS = [
  'Blue Team',
  'Web Squad',
  'Print Studio',
  'Launch Crew',
  'Platform Team',
  'Campaign Pod',
  'Video Unit',
  'Ops Desk',
  'Data Guild',
  'Brand Council',
  'Growth Team',
  'Localization Hub',
];
export const COMPANIES = [
  'Acme Corp',
  'Globex',
  'Initech',
  'Umbrella Partners',
  'Stark Industries',
  'Wayne Enterprises',
  'Hooli',
  'Vandelay Imports',
  'Soylent Co',
  'Tyrell Systems',
  'Wonka Foods',
  'Cyberdyne',
  'Oscorp',
  'Gringotts',
];
export const SCHEDULES = ['Default Schedule', 'US Schedule', 'EMEA Schedule', 'APAC Schedule', 'India Schedule', 'Part-time Schedule', 'Night Shift'];
export const HOUR_TYPES = ['Regular', 'Overtime', 'Meetings', 'Training', 'Travel', 'Vacation', 'Sick Leave', 'Administrative', 'Support', 'Research'];
export const TIMESHEETS = ['Weekly Timesheet', 'Bi-weekly Timesheet', 'Contractor Timesheet', 'Monthly Timesheet'];
export const EXPENSES = ['Mileage', 'Airfare', 'Hotel', 'Meals', 'Software License', 'Equipment', 'Printing', 'Stock Photography'];
export const RISKS = ['Schedule', 'Budget', 'Scope', 'Resource', 'Technical', 'Legal', 'Vendor', 'Quality'];
export const POOLS = ['Creative Pool', 'Engineering Pool', 'Freelancers', 'Shared Services', 'Agency Partners', 'Offshore Team'];
export const MILESTONE_PATHS = ['Standard Delivery', 'Campaign Launch', 'Product Release', 'Event Planning', 'Agile Sprint', 'Compliance Review'];
export const MILESTONES = ['Kickoff', 'Design Approved', 'Build Complete', 'Launch'];
export const MILESTONES_PER_PATH = MILESTONES.length;
export const APPROVALS = [
  'Creative Approval',
  'Budget Approval',
  'Legal Review',
  'Launch Sign-off',
  'Change Request Approval',
  'Content Review',
  'Vendor Approval',
  'Final QA',
];
export const PARAMETERS = [
  'Budget Code',
  'Cost Center',
  'Region',
  'Channel',
  'Audience',
  'Brand',
  'Campaign Type',
  'Priority Level',
  'Launch Date',
  'Requested By',
  'Business Unit',
  'Asset Type',
  'Language',
  'Market',
  'Fiscal Quarter',
  'Risk Level',
  'Approval Tier',
  'Vendor Name',
  'Target KPI',
  'Product Line',
  'Agency',
  'Media Type',
];
export const PARAM_GROUPS = ['General', 'Financials', 'Marketing Details', 'Legal', 'Scheduling', 'Internal Use'];
/** Category i is a custom form for CATEGORY_CODES[i % 6]: templates find their forms by index. */
export const CATEGORY_CODES = ['PROJ', 'TASK', 'GROUP', 'CMPY', 'PORT', 'PRGM'] as const;
export const CATEGORY_NAMES = [
  'Project Intake Form',
  'Task Details Form',
  'Group Profile Form',
  'Client Profile Form',
  'Portfolio Scorecard Form',
  'Program Charter Form',
];
export const PORTFOLIOS = ['Digital Transformation', 'Brand Refresh', 'Customer Experience', 'Operational Excellence', 'Growth Markets', 'Sustainability'];
export const PROGRAM_KINDS = ['Wave 1', 'Wave 2', 'Pilot', 'Rollout'];
export const USER_GROUPS = ['Everyone', 'Administrators', 'Developers', 'Report Authors', 'Approvers', 'Auditors', 'Contractors'];
export const SECURITY_ROLES = ['Normal Users', 'Power Users', 'Administrators', 'Read Only', 'Architects'];
export const PRIVILEGES = ['Browse', 'Create Reports', 'Edit Reports', 'Schedule Requests', 'Use Architect', 'Administer Users', 'Export Data', 'Web Print'];
export const FIRST_NAMES = ['Ada', 'Grace', 'Linus', 'Ken', 'Barbara', 'Edsger', 'Margaret', 'Alan', 'Frances', 'Donald', 'Radia', 'Tim'];
export const LAST_NAMES = ['Lovelace', 'Hopper', 'Torvalds', 'Thompson', 'Liskov', 'Dijkstra', 'Hamilton', 'Turing', 'Allen', 'Knuth', 'Perlman', 'Berners'];

export const TEMPLATE_KIND = ['Agency', 'Client', 'Product', 'Campaign', 'Website', 'Event', 'Brand', 'Quarterly', 'Vendor', 'Employee', 'Social', 'Print'];
export const TEMPLATE_WORK = ['Onboarding', 'Launch', 'Refresh', 'Review', 'Kickoff', 'Rollout', 'Audit', 'Migration', 'Planning', 'Production'];
export const REPORT_SUBJECT = [
  'Active Projects',
  'Late Tasks',
  'Open Issues',
  'Hours Logged',
  'Budget vs Actual',
  'Pending Approvals',
  'Resource Utilization',
  'My Work',
  'Upcoming Milestones',
  'Template Usage',
];
export const REPORT_CUT = ['by Owner', 'by Portfolio', 'by Group', 'This Week', 'by Status', 'by Company', 'for Executives', 'by Role'];
export const FILTER_NAMES = [
  'My Active Projects',
  'Due This Week',
  'Overdue',
  'Awaiting My Approval',
  'High Priority',
  'Current Quarter',
  'Unassigned',
  'Completed Last Month',
];
export const GROUPING_NAMES = ['By Owner', 'By Status', 'By Portfolio', 'By Group', 'By Month', 'By Company'];
export const VIEW_NAMES = ['Standard View', 'Financial View', 'Timeline View', 'Resource View', 'Approval View', 'Compact View'];
export const DASHBOARDS = ['Executive Overview', 'My Team', 'Creative Ops', 'PMO', 'Resource Planning', 'Finance Summary', 'Launch Tracker', 'Client Health'];
export const DASHBOARD_KIND = ['Dashboard', 'Board', 'Home', 'Cockpit'];
export const CALENDARS = ['Launch Calendar', 'Holiday Calendar', 'Content Calendar', 'Event Calendar', 'Release Calendar'];
export const EXTERNAL_PAGES = ['Company Intranet', 'Brand Guidelines', 'Status Page', 'Team Wiki', 'Jira Board', 'Looker Dashboard'];
export const LAYOUTS = ['Project Manager Layout', 'Executive Layout', 'Contributor Layout', 'Requestor Layout', 'Admin Layout'];
export const PHASES = ['Discovery', 'Planning', 'Design', 'Build', 'Review', 'Launch', 'Wrap-up'];
export const ACTIVITIES = [
  'Review brief',
  'Gather requirements',
  'Draft copy',
  'Create mockups',
  'Internal review',
  'Client review',
  'Legal check',
  'Build pages',
  'QA pass',
  'Fix defects',
  'Prepare assets',
  'Schedule posts',
  'Sign-off',
  'Publish',
  'Measure results',
  'Update budget',
  'Book vendors',
  'Translate content',
  'Record video',
];
export const HOLIDAYS = [
  "New Year's Day",
  'Spring Holiday',
  'Labour Day',
  'Summer Break',
  'National Day',
  'Thanksgiving',
  'Christmas Eve',
  'Christmas Day',
  'Company Day',
];
export const QUEUE_TOPICS = ['New Banner', 'Landing Page', 'Video Edit', 'Print Ad', 'Social Post', 'Translation', 'Photo Shoot'];
export const FILLER = [
  'Owned by the PMO; changes go through the weekly change board.',
  'Used by the EMEA and North America teams.',
  'Keep in sync with the current brand guidelines.',
  'Created during the 2025 process refresh.',
  'Review every quarter with the business owners.',
  'Do not delete: active projects still refer to it.',
  'Mirrors the terms of the agency master agreement.',
  'Ask the operations desk before editing.',
  'Defaults agreed with Finance for the new fiscal year.',
  'Replaces the legacy setup from the old instance.',
  'Copied from the shared services standard and adapted.',
  'Visible to all licensed users.',
  'Reviewed by Legal in March.',
  'Applies to external vendors as well.',
];

export const STATUSES = ['CUR', 'PLN', 'CPL', 'ONH'];
export const CURRENCIES = ['USD', 'EUR', 'GBP', 'JPY'];
export const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];
